-- File configuration keys are written as files under one folder by `devsync run`. A `.` or an
-- empty segment (`./`, `a//b`, a trailing `/`) names that folder itself, or the same file as
-- another key, so such keys are refused like `..` (22023). Existing rows are not touched; the
-- check applies to every write from now on (all writers call validate_configuration).

create or replace function private.validate_configuration(
  p_key text, p_value text, p_is_secret boolean, p_type text
) returns void
language plpgsql immutable set search_path = ''
as $$
begin
  if p_type is null or p_type not in ('env_var', 'file') then
    raise exception 'configuration type must be env_var or file' using errcode = '22023';
  end if;
  if p_is_secret is null then
    raise exception 'is_secret must be true or false' using errcode = '22023';
  end if;
  if p_key is null or p_key = '' then
    raise exception 'a configuration key must not be empty' using errcode = '22023';
  end if;
  if p_type = 'env_var' then
    if char_length(p_key) > 256 then
      raise exception 'an environment variable name may be at most 256 characters'
        using errcode = '22023';
    end if;
    if p_key !~ '^[A-Za-z_][A-Za-z0-9_]*$' then
      raise exception 'an environment variable name must start with a letter or _ and contain '
        'only letters, digits and _' using errcode = '22023';
    end if;
  else
    if char_length(p_key) > 1024 then
      raise exception 'a file path may be at most 1024 characters' using errcode = '22023';
    end if;
    if left(p_key, 1) = '/' then
      raise exception 'a file path must be relative (no leading /)' using errcode = '22023';
    end if;
    if position(E'\\' in p_key) > 0 then
      raise exception 'a file path must use / as separator (no backslash)'
        using errcode = '22023';
    end if;
    if '..' = any (string_to_array(p_key, '/')) then
      raise exception 'a file path must not contain a .. segment' using errcode = '22023';
    end if;
    if '.' = any (string_to_array(p_key, '/')) or '' = any (string_to_array(p_key, '/')) then
      raise exception 'a file path must not have empty or . segments (no //, no trailing /)'
        using errcode = '22023';
    end if;
    if p_key ~ '[\x01-\x1f\x7f]' then
      raise exception 'a file path must not contain control characters' using errcode = '22023';
    end if;
  end if;
  if p_value is null then
    raise exception 'a configuration value must not be null (use an empty string)'
      using errcode = '22023';
  end if;
  if octet_length(p_value) > 1048576 then
    raise exception 'a configuration value may be at most 1 MiB (1,048,576 bytes)'
      using errcode = '22023';
  end if;
  if p_type = 'env_var' and p_value ~ '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]' then
    raise exception 'an environment variable value must not contain control characters other '
      'than tab, newline and carriage return' using errcode = '22023';
  end if;
end
$$;
comment on function private.validate_configuration(text, text, boolean, text) is
  'docs/DATABASE.md save_configuration validation (PERMISSIONS.md: file keys are relative paths)';

revoke all on function private.validate_configuration(text, text, boolean, text)
  from public, anon, authenticated;
