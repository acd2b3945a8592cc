#!/usr/bin/env python3
"""The lighter guest-side endpoint of eng/guest/fabric-bench.sh --tool python (docs/vhost-user.md, "Performance").

  vsock-stream.py send CID PORT BYTES [WINDOW]   connects, sends BYTES zero bytes from one 1 MiB buffer (no /dev/zero
                                                 to read), half-closes, waits for the peer's end
  vsock-stream.py sink PORT OUT [WINDOW]         listens on PORT, accepts one stream, reads it into one 1 MiB buffer
                                                 (no pipe behind it); writes KB/s from the first byte to the end of
                                                 stream to OUT

socat moves each 128 KiB through a read from /dev/zero (sender) or a pipe (the bench's sink), copies a TCG guest pays
for in CPU; this endpoint leaves the kernel's own copies only. Both keep the socket's default buffer size (256 KiB),
the window the guest kernel allows in flight; WINDOW sets SO_VM_SOCKETS_BUFFER_SIZE (and its maximum) to that many
bytes instead, before connecting or listening.
"""
import socket
import sys
import time

CHUNK = 1 << 20
SO_VM_SOCKETS_BUFFER_SIZE = 0
SO_VM_SOCKETS_BUFFER_MAX_SIZE = 2


def vsock(window):
    s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    if window:
        s.setsockopt(socket.AF_VSOCK, SO_VM_SOCKETS_BUFFER_MAX_SIZE, window)  # Python passes a u64 for AF_VSOCK
        s.setsockopt(socket.AF_VSOCK, SO_VM_SOCKETS_BUFFER_SIZE, window)
    return s


def send(cid, port, size, window):
    with vsock(window) as s:
        s.connect((cid, port))
        chunk = bytes(CHUNK)
        left = size
        while left > 0:
            n = min(left, CHUNK)
            s.sendall(chunk[:n] if n < CHUNK else chunk)
            left -= n
        s.shutdown(socket.SHUT_WR)
        s.recv(1)


def sink(port, out, window):
    with vsock(window) as listener:
        listener.bind((socket.VMADDR_CID_ANY, port))
        listener.listen(1)
        conn, _ = listener.accept()
        with conn:
            buffer = bytearray(CHUNK)
            n = conn.recv_into(buffer)
            start = time.monotonic_ns()
            total = 0
            while n:
                n = conn.recv_into(buffer)
                total += n
            end = time.monotonic_ns()
    with open(out, "w", encoding="ascii") as f:
        f.write(f"{total * 1_000_000 // max(1, end - start)}\n")


if __name__ == "__main__":
    if len(sys.argv) in (5, 6) and sys.argv[1] == "send":
        send(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) == 6 else 0)
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "sink":
        sink(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]) if len(sys.argv) == 5 else 0)
    else:
        sys.exit(__doc__)
