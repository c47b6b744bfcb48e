#!/usr/bin/env python3
"""Migrates the tiny guest between two local QEMUs with nothing but QMP: Ferry's baseline.

Starts a source QEMU with the same command line Ferry's QEMU driver uses (same devices, memory,
accelerator), waits until the guest prints its counter, starts a target with -incoming, sets the
same migration parameters Ferry sets (1 GiB/s, 300 ms downtime limit, auto-converge), migrates,
polls query-migrate every 20 ms, checks that the guest counts on at the target, and prints one
JSON line per repetition: wall time from the migrate command to the target running, and QEMU's
own total time and downtime. Used by `ops/bench migration`; python3's standard library only.
"""
import argparse, json, os, re, socket, subprocess, sys, tempfile, time


class Qmp:
    def __init__(self, path, timeout=30):
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > deadline:
                    raise SystemExit(f"QEMU's QMP socket {path} did not open in {timeout} s")
                time.sleep(0.02)
        self.file = self.sock.makefile("rw")
        json.loads(self.file.readline())  # greeting
        self.execute("qmp_capabilities")

    def execute(self, command, **arguments):
        self.file.write(json.dumps({"execute": command, "arguments": arguments}) + "\n")
        self.file.flush()
        while True:
            reply = json.loads(self.file.readline())
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise SystemExit(f"QMP {command} failed: {reply['error'].get('desc')}")


def qemu(args, image, overlay, memory, accel, run, name, incoming=None):
    qmp = os.path.join(run, name + ".qmp")
    console = os.path.join(run, name + ".console")
    cmd = [args.qemu, "-name", "bare-" + name, "-accel", accel, "-m", f"{memory}M", "-smp", "1",
           "-nodefaults", "-no-user-config", "-display", "none",
           "-drive", f"file={overlay},if=none,id=disk0,format=qcow2", "-device", "virtio-blk-pci,drive=disk0",
           "-serial", "file:" + console, "-qmp", f"unix:{qmp},server=on,wait=off",
           "-kernel", os.path.join(image, "kernel"), "-initrd", os.path.join(image, "initrd")]
    cmdline = os.path.join(image, "cmdline")
    if os.path.exists(cmdline):
        cmd += ["-append", open(cmdline).read().strip()]
    if incoming:
        cmd += ["-incoming", incoming]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(os.path.join(run, name + ".stderr"), "w"))
    return proc, Qmp(qmp), console


def last_count(console):
    try:
        text = open(console, errors="replace").read()
    except OSError:
        return None
    found = re.findall(r"CNT (\d+) boot=(\S+)", text)
    return (int(found[-1][0]), found[-1][1]) if found else None


def wait_for(what, check, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def once(args, run):
    image = os.path.join(args.images, args.image)
    overlay = os.path.join(run, "overlay.qcow2")
    subprocess.run([args.qemu_img, "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                    os.path.join(image, "base.qcow2"), overlay], check=True)
    src, sq, sconsole = qemu(args, image, overlay, args.memory, args.accel, run, "source")
    dst = None
    try:
        before = wait_for("the guest's counter on the source", lambda: last_count(sconsole), 120)
        dst, dq, dconsole = qemu(args, image, overlay, args.memory, args.accel, run, "target", incoming="defer")
        uri = f"tcp:127.0.0.1:{free_port()}"
        dq.execute("migrate-incoming", uri=uri)
        sq.execute("migrate-set-capabilities", capabilities=[
            {"capability": "auto-converge", "state": True}, {"capability": "postcopy-ram", "state": False}])
        sq.execute("migrate-set-parameters", **{"max-bandwidth": 1 << 30, "downtime-limit": 300})
        start = time.monotonic()
        sq.execute("migrate", uri=uri)
        while True:
            m = sq.execute("query-migrate")
            if m.get("status") == "completed":
                break
            if m.get("status") in ("failed", "cancelled"):
                raise SystemExit("migration " + m.get("status") + ": " + m.get("error-desc", ""))
            time.sleep(0.02)
        wait_for("the target to run", lambda: dq.execute("query-status").get("status") == "running", 30)
        wall = (time.monotonic() - start) * 1000
        src.kill()
        after = wait_for("the guest to count on at the target",
                         lambda: (lambda c: c if c and c[0] > before[0] else None)(last_count(dconsole)), 30)
        continued = after[1] == before[1]
        return {"wall_ms": round(wall, 1), "total_ms": m.get("total-time"), "downtime_ms": m.get("downtime"),
                "guest_continued": continued, "counter_before": before[0], "counter_after": after[0]}
    finally:
        for p in (src, dst):
            if p:
                p.kill()
                p.wait()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", default=os.environ.get("FERRY_IMAGES", os.path.expanduser("~/.ferry/images")))
    p.add_argument("--image", default="tiny")
    p.add_argument("--memory", type=int, default=128, help="guest memory in MiB (default 128, Ferry's tiny flavour)")
    p.add_argument("--accel", default="tcg")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("--qemu-img", default="qemu-img")
    args = p.parse_args()
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="bare-mig") as run:
            print(json.dumps(once(args, run)), flush=True)


if __name__ == "__main__":
    main()
