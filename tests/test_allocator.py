"""The CLI's allocator setting: applied on glibc, and off with VAEKIT_KEEP_FREED_MEMORY=0."""

import ctypes.util
import platform
import subprocess
import sys

import pytest

from vaekit.allocator import keep_freed_memory

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_glibc_takes_the_thresholds():
    # in a child process: the setting lasts for the whole process
    code = "from vaekit.allocator import keep_freed_memory; print(keep_freed_memory())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True" and ctypes.util.find_library("c")


def test_the_switch_turns_it_off(monkeypatch):
    monkeypatch.setenv("VAEKIT_KEEP_FREED_MEMORY", "0")
    assert keep_freed_memory() is False
