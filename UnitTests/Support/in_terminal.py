"""Runs a command with a pseudo-terminal as its standard streams, for tests of behaviour that
only a terminal switches on. Lines written to this script's stdin are typed into the terminal;
whatever the command writes to it comes out on this script's stdout. Exits with its exit code."""
import os
import select
import subprocess
import sys

master, slave = os.openpty()
child = subprocess.Popen(sys.argv[1:], stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
os.close(slave)
watching = [master, sys.stdin.fileno()]
while True:
    ready, _, _ = select.select(watching, [], [])
    if sys.stdin.fileno() in ready:
        typed = os.read(sys.stdin.fileno(), 4096)
        if typed:
            os.write(master, typed)
        else:
            watching.remove(sys.stdin.fileno())  # Our input ended; the terminal stays open.
    if master in ready:
        try:
            shown = os.read(master, 4096)
        except OSError:  # EIO: every process holding the terminal has closed it.
            shown = b""
        if not shown:
            break
        sys.stdout.buffer.write(shown)
        sys.stdout.buffer.flush()
sys.exit(child.wait())
