"""Every option of the commands that learn from a teacher says what it takes in `--help`."""

from __future__ import annotations

import pytest

from kd.cli.main import main


@pytest.mark.parametrize("command", ["distill", "sweep"])
def test_the_teacher_option_has_help(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--teacher TEACHER teacher checkpoint" in text and "(default: checkpoints/teacher.safetensors)" in text
