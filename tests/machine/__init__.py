"""Tests of machine/, the library below the commands: called directly, no argparse."""
