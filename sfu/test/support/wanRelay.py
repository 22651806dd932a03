"""User-space WAN link for kernels without sch_netem (see wanShaping.ts).

Each link is a pair of TUN devices; whatever one side routes into its device comes out of the
other side's device after a fixed one-way delay, or is lost at random. The devices are created
here, in the caller's namespace, and moved into the hosts' namespaces by the caller: they are not
persistent, so they vanish with this process whatever way it ends.

argv[1]: JSON {"links": [{"a": name, "b": name, "delayMs": one-way ms, "loss": 0..1 per direction}]}
Prints "ready" once the devices exist; exits when its standard input closes (the parent is gone).
"""

import fcntl
import heapq
import json
import os
import random
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
# Like netem's default limit: a bound on packets in flight per relay, so a runaway sender can't
# grow memory without end.
MAX_IN_FLIGHT = 10000


def open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main() -> None:
    config = json.loads(sys.argv[1])
    # fd -> (fd to write to, one-way delay in seconds, loss probability)
    routes: dict[int, tuple[int, float, float]] = {}
    for link in config["links"]:
        a, b = open_tun(link["a"]), open_tun(link["b"])
        delay, loss = link["delayMs"] / 1000.0, float(link["loss"])
        routes[a] = (b, delay, loss)
        routes[b] = (a, delay, loss)

    stdin = sys.stdin.fileno()
    poller = select.poll()
    poller.register(stdin, select.POLLIN | select.POLLHUP)
    for fd in routes:
        poller.register(fd, select.POLLIN)
    print("ready", flush=True)

    queue: list[tuple[float, int, int, bytes]] = []
    seq = 0
    while True:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, out, packet = heapq.heappop(queue)
            try:
                os.write(out, packet)
            except OSError:
                pass  # the far device is down (being cut or torn down): the packet is lost
        timeout = None if not queue else max(0, int((queue[0][0] - now) * 1000 + 0.999))
        for fd, _ in poller.poll(timeout):
            if fd == stdin:
                if not os.read(stdin, 4096):
                    return
                continue
            out, delay, loss = routes[fd]
            while True:
                try:
                    packet = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if len(queue) >= MAX_IN_FLIGHT or random.random() < loss:
                    continue
                seq += 1
                heapq.heappush(queue, (time.monotonic() + delay, seq, out, packet))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
