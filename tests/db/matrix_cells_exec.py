"""Cells for execution-control variables (migration 20261205100200_execution_control) and
files (20261207200000_execution_control_files): such keys are created, changed, restored or
deleted only by admins, at every scope and on every road (RPCs, templates, environments made
from a template). See tests/db/matrix_ops.py
for the conventions.

The matrix's ``ids`` fixture stores (as superuser) a storefront default ``PATH``, an
``LD_PRELOAD`` override in bob-laptop and a storefront template "Tooling" that sets
``NODE_OPTIONS`` (see :func:`install_execution_control_rows`).
"""

from __future__ import annotations

from tests.db.helpers import ADMINS, WRITERS, Conn
from tests.db.matrix_ops import BOB_ENV, ENV_WRITERS, Op, S, q
from tests.support import demo

TEMPLATE_TOOLING = "00000000-0000-4000-e000-0000000000f1"


def install_execution_control_rows(su: Conn) -> None:
    """The rows the cells below change (written without a user, as the seed writes)."""
    su.execute(
        "select private.write_configuration(%s, null, 'PATH', '/opt/acme/bin:/usr/bin',"
        " false, 'env_var', null)",
        (S,),
    )
    su.execute(
        "select private.write_configuration(%s, %s, 'LD_PRELOAD', '/opt/acme/libfast.so',"
        " false, 'env_var', null)",
        (S, BOB_ENV),
    )
    su.execute(
        "insert into env_templates (id, project_id, name, config_json, created_by)"
        " values (%s, %s, 'Tooling',"
        ' \'{"NODE_OPTIONS": "--max-old-space-size=4096", "EDITOR_THEME": "dark"}\', %s)',
        (TEMPLATE_TOOLING, S, demo.ALICE.id),
    )


EXEC_OPS: list[Op] = [
    Op(
        "exec_control.rpc_create_default",
        ADMINS,
        lambda c, u, i: q(
            c,
            "select id from save_configuration(%s, null, 'NODE_OPTIONS', '--require=./x.js',"
            " false, 'env_var', null)",
            (S,),
        ),
    ),
    Op(
        "exec_control.rpc_create_default_secret",
        ADMINS,
        lambda c, u, i: q(
            c,
            "select id from save_configuration(%s, null, 'JAVA_TOOL_OPTIONS', '-javaagent:a.jar',"
            " true, 'env_var', null)",
            (S,),
        ),
    ),
    Op(
        "exec_control.rpc_create_default_other_case",  # 'Path' is PATH on Windows
        ADMINS,
        lambda c, u, i: q(
            c,
            "select id from save_configuration(%s, null, 'Path', 'C:/evil', false, 'env_var',"
            " null)",
            (S,),
        ),
    ),
    Op(
        "exec_control.rpc_create_env",
        ADMINS,
        lambda c, u, i: q(
            c,
            "select id from save_configuration(%s, %s, 'PYTHONPATH', '/tmp/x', false,"
            " 'env_var', null)",
            (S, BOB_ENV),
        ),
    ),
    Op(
        "exec_control.rpc_create_env_prefix",
        ADMINS,
        lambda c, u, i: q(
            c,
            "select id from save_configuration(%s, %s, 'DYLD_INSERT_LIBRARIES', '/tmp/x.dylib',"
            " false, 'env_var', null)",
            (S, BOB_ENV),
        ),
    ),
    Op(
        "exec_control.rpc_update_default",
        ADMINS,
        lambda c, u, i: q(
            c,
            "select id from save_configuration(%s, null, 'PATH', '/tmp/evil:/usr/bin', false,"
            " 'env_var', 1)",
            (S,),
        ),
    ),
    Op(
        "exec_control.rpc_update_env",
        ADMINS,
        lambda c, u, i: q(
            c,
            "select id from save_configuration(%s, %s, 'LD_PRELOAD', '/tmp/evil.so', false,"
            " 'env_var', 1)",
            (S, BOB_ENV),
        ),
    ),
    Op(
        "exec_control.rpc_retype_env",  # turning it into a file is a change of it too
        ADMINS,
        lambda c, u, i: q(
            c,
            "select id from save_configuration(%s, %s, 'LD_PRELOAD', 'x', false, 'file', 1)",
            (S, BOB_ENV),
        ),
    ),
    Op(
        "exec_control.rpc_delete_default",
        ADMINS,
        lambda c, u, i: q(c, "select delete_configuration(%s, 1)", (i["path_default"],)),
    ),
    Op(
        "exec_control.rpc_delete_env",
        ADMINS,
        lambda c, u, i: q(c, "select delete_configuration(%s, 1)", (i["ld_preload_env"],)),
    ),
    Op(
        "exec_control.rpc_restore_default",
        ADMINS,
        lambda c, u, i: q(
            c, "select id from restore_configuration(%s, 1)", (i["path_default_v1"],)
        ),
    ),
    # files that run code once `env pull` writes them into a checkout (migration
    # 20261207200000_execution_control_files): hidden paths, dotenv files; admins only
    Op(
        "exec_control.file_git_config_default",
        ADMINS,
        lambda c, u, i: q(
            c,
            "select id from save_configuration(%s, null, '.git/config', '[core]', false,"
            " 'file', null)",
            (S,),
        ),
    ),
    Op(
        "exec_control.file_dotenv_env",  # the env owner's own override too
        ADMINS,
        lambda c, u, i: q(
            c,
            "select id from save_configuration(%s, %s, 'config/dev.env', 'A=1', false, 'file',"
            " null)",
            (S, BOB_ENV),
        ),
    ),
    Op(
        "exec_control.file_ordinary_default",  # config/app.json stays the members'
        WRITERS,
        lambda c, u, i: q(
            c,
            "select id from save_configuration(%s, null, 'config/other.json', '{}', false,"
            " 'file', null)",
            (S,),
        ),
    ),
    # not execution control: a file key of that name, and a name that only starts like one
    Op(
        "exec_control.file_key_named_path",
        ENV_WRITERS,
        lambda c, u, i: q(
            c,
            "select id from save_configuration(%s, %s, 'PATH', 'x', false, 'file', null)",
            (S, BOB_ENV),
        ),
    ),
    Op(
        "exec_control.similar_name",
        ENV_WRITERS,
        lambda c, u, i: q(
            c,
            "select id from save_configuration(%s, %s, 'PATH_PREFIX', 'x', false, 'env_var', null)",
            (S, BOB_ENV),
        ),
    ),
    # templates: members write them, so only admins may put such a key in one
    Op(
        "exec_control.template_insert",
        ADMINS,
        lambda c, u, i: q(
            c,
            "insert into env_templates (project_id, name, config_json, created_by)"
            " values (%s, 'T', '{\"LD_PRELOAD\": \"/tmp/x.so\"}', auth.uid()) returning id",
            (S,),
        ),
    ),
    Op(
        "exec_control.template_update_other_key",
        WRITERS,
        lambda c, u, i: q(
            c,
            'update env_templates set config_json = config_json || \'{"EDITOR_THEME": "light"}\''
            " where id = %s returning id",
            (TEMPLATE_TOOLING,),
        ),
    ),
    Op(
        "exec_control.template_update_exec_key",
        ADMINS,
        lambda c, u, i: q(
            c,
            "update env_templates set config_json = config_json"
            ' || \'{"NODE_OPTIONS": "--require=/tmp/x.js"}\' where id = %s returning id',
            (TEMPLATE_TOOLING,),
        ),
    ),
    Op(
        "exec_control.environment_from_template",
        ADMINS,
        lambda c, u, i: q(
            c, "select id from create_environment(%s, 'tooled', %s)", (S, TEMPLATE_TOOLING)
        ),
    ),
]
