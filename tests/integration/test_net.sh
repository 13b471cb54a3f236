#!/usr/bin/env bash
# The network filter (netstack-shim, issue 4): the sandbox has its own
# network namespace; connect/sendto/sendmsg/bind/listen are performed by the
# sentry after the policy. Listeners (TCP and UDP, IPv4 and IPv6) and a tiny
# DNS responder run on the host's loopback; the agent is a Python script.
# Allowed destinations work; everything else is refused (EACCES for a
# destination no rule allows; ECONNREFUSED for the sandbox's own loopback,
# where the host's listeners are not), and the host's listeners never see
# a refused attempt.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"

command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }
HAVE_V6=1
python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null || HAVE_V6=0

# ---------------------------------------------------------------- the host's side

# hostsrv.py PORTFILE LOG: TCP listeners that greet each connection with their
# name, UDP echo servers, a DNS responder (UDP and TCP) for a few names;
# every event is a line of LOG. Ports are chosen by the kernel and written
# to PORTFILE as NAME=PORT lines once everything listens.
cat >"$TMPROOT/hostsrv.py" <<'EOF'
import os, socket, struct, sys, threading
portfile, log, have_v6 = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
lock = threading.Lock()
def note(line):
    with lock, open(log, "a") as f:
        f.write(line + "\n")
ports = {}
def tcp(name, addr):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    s.bind((addr, 0)); s.listen(64); ports[name] = s.getsockname()[1]
    def loop():
        while True:
            c, _ = s.accept(); note("tcp " + name)
            try: c.sendall(("hello from " + name).encode())
            except OSError: pass
            c.close()
    threading.Thread(target=loop, daemon=True).start()
def udp(name, addr):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 0)); ports[name] = s.getsockname()[1]
    def loop():
        while True:
            d, a = s.recvfrom(4096); note("udp %s %s" % (name, d.decode(errors="replace")))
            s.sendto(b"echo " + d, a)
    threading.Thread(target=loop, daemon=True).start()
NAMES = {"good.localhost": ["127.0.0.1", "::1"], "a.wild.localhost": ["127.0.0.1"], "wild.localhost": ["127.0.0.1"],
         "far.test": ["192.0.2.44"], "evil.localhost": ["127.0.0.1"], "alias.localhost": ["cname:good.localhost"]}
def answer(q):
    qid, flags = struct.unpack(">HH", q[:4])
    off, labels = 12, []
    while q[off]:
        labels.append(q[off + 1:off + 1 + q[off]].decode()); off += 1 + q[off]
    name = ".".join(labels).lower(); off += 1
    qtype = struct.unpack(">H", q[off:off + 2])[0]
    note("dns %s %d" % (name, qtype))
    recs, owner = [], b"\xc0\x0c"
    for v in NAMES.get(name, []):
        if v.startswith("cname:"):
            target = b"".join(bytes([len(l)]) + l.encode() for l in v[6:].split(".")) + b"\0"
            recs.append(owner + struct.pack(">HHIH", 5, 1, 60, len(target)) + target)
            owner = b"\xc0" + bytes([12 + len(q[12:off + 4]) + 12])  # the target's name
            v = NAMES[v[6:]][0]
        if qtype == 1 and ":" not in v:
            recs.append(owner + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(v))
        if qtype == 28 and ":" in v:
            recs.append(owner + struct.pack(">HHIH", 28, 1, 60, 16) + socket.inet_pton(socket.AF_INET6, v))
    rcode = 0 if name in NAMES else 3
    return struct.pack(">HHHHHH", qid, 0x8180 | rcode, 1, len(recs), 0, 0) + q[12:off + 4] + b"".join(recs)
def dns(addr):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((addr, 0))
    port = u.getsockname()[1]; ports["dns"] = port
    t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind((addr, port)); t.listen(8)
    def uloop():
        while True:
            q, a = u.recvfrom(4096); u.sendto(answer(q), a)
    def tloop():
        while True:
            c, _ = t.accept()
            n = struct.unpack(">H", c.recv(2))[0]; r = answer(c.recv(n))
            c.sendall(struct.pack(">H", len(r)) + r); c.close()
    threading.Thread(target=uloop, daemon=True).start()
    threading.Thread(target=tloop, daemon=True).start()
for n in ("allowed", "other", "third"):
    tcp(n, "127.0.0.1")
udp("uallowed", "127.0.0.1"); udp("uother", "127.0.0.1")
if have_v6:
    tcp("v6allowed", "::1"); tcp("v6other", "::1"); udp("u6allowed", "::1")
dns("127.0.0.2")
# a unix socket and an abstract one of the host's
def unix(name, path):
    s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen(8)
    def loop():
        while True:
            c, _ = s.accept(); note("unix " + name); c.sendall(b"hello from " + name.encode()); c.close()
    threading.Thread(target=loop, daemon=True).start()
unix("path", os.path.join(os.path.dirname(portfile), "host.sock"))
unix("abstract", "\0usbox-test-net-%d" % os.getpid())
ports["abstract"] = os.getpid()
with open(portfile + ".tmp", "w") as f:
    for k, v in ports.items(): f.write("%s=%d\n" % (k, v))
os.rename(portfile + ".tmp", portfile)
threading.Event().wait()
EOF

HLOG=$TMPROOT/host.log
: >"$HLOG"
python3 "$TMPROOT/hostsrv.py" "$TMPROOT/ports" "$HLOG" "$HAVE_V6" &
HOSTSRV=$!
track_bg "$HOSTSRV"
for _ in $(seq 100); do [ -s "$TMPROOT/ports" ] && break; sleep 0.05; done
[ -s "$TMPROOT/ports" ] || { echo "the host's listeners did not start" >&2; exit 1; }
while IFS== read -r k v; do eval "P_$k=$v"; done <"$TMPROOT/ports"
DNS="127.0.0.2:$P_dns"

# ---------------------------------------------------------------- the agent

# agent.py STEP...: each step prints "STEP: RESULT", RESULT being "ok DATA"
# or the errno's name.
cat >"$TMPROOT/agent.py" <<'EOF'
import ctypes, errno, os, socket, struct, sys
P = dict(l.strip().split("=") for l in open(os.path.join(os.path.dirname(sys.argv[0]), "ports")))
P = {k: int(v) for k, v in P.items()}
libc = ctypes.CDLL(None, use_errno=True)
def name(e):
    if isinstance(e, socket.gaierror):
        return "gaierror %d" % e.errno
    if isinstance(e, TimeoutError):
        return "timeout"
    if isinstance(e, OSError) and e.errno:
        return {"ENOTSUP": "EOPNOTSUPP"}.get(errno.errorcode.get(e.errno), errno.errorcode.get(e.errno, str(e)))
    return type(e).__name__
def tcp(addr, port, fam=None, timeout=3):
    s = socket.socket(fam or (socket.AF_INET6 if ":" in addr else socket.AF_INET))
    s.settimeout(timeout)
    try:
        s.connect((addr, port)); return "ok " + s.recv(100).decode()
    except Exception as e:
        return name(e)
def udp_roundtrip(s, data, to=None):
    try:
        s.sendto(data, to) if to else s.send(data)
        return "ok " + s.recv(100).decode()
    except Exception as e:
        return name(e)
def unspec(s):
    r = libc.connect(s.fileno(), (ctypes.c_ubyte * 16)(), 16)
    return "ok" if r == 0 else errno.errorcode[ctypes.get_errno()]
def raw_sendto(s, family, addr, port, data=b"x"):
    sa = struct.pack("=H", family) + struct.pack(">H", port) + socket.inet_aton(addr) + bytes(8)
    r = libc.sendto(s.fileno(), data, len(data), 0, sa, 16)
    return "ok" if r >= 0 else errno.errorcode[ctypes.get_errno()]
class MsgHdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32), ("iov", ctypes.c_void_p),
                ("iovlen", ctypes.c_size_t), ("control", ctypes.c_void_p),
                ("controllen", ctypes.c_size_t), ("flags", ctypes.c_int)]
def sendmsg_namelen(s, addr, port, namelen, data):
    """sendmsg to addr:port with msg_namelen as given (the buffer is 256 bytes)"""
    sa = struct.pack("=H", socket.AF_INET) + struct.pack(">H", port) + socket.inet_aton(addr)
    name = ctypes.create_string_buffer(sa + bytes(256 - len(sa)))
    buf = ctypes.create_string_buffer(data, len(data))
    iov = (ctypes.c_size_t * 2)(ctypes.addressof(buf), len(data))
    m = MsgHdr(ctypes.addressof(name), namelen & 0xffffffff, ctypes.addressof(iov), 1, None, 0, 0)
    if libc.sendmsg(s.fileno(), ctypes.byref(m), 0) < 0:
        return errno.errorcode[ctypes.get_errno()]
    return "ok " + s.recv(100).decode()
def resolve(host, fam=socket.AF_UNSPEC):
    try:
        return "ok " + ",".join(sorted({a[4][0] for a in socket.getaddrinfo(host, 80, fam, socket.SOCK_STREAM)}))
    except socket.gaierror as e:
        return "gaierror " + str(e.errno)
def dns_tcp(qname):
    ns = [l.split()[1] for l in open("/etc/resolv.conf") if l.startswith("nameserver")][0]
    q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in qname.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
    s = socket.create_connection((ns, 53), timeout=5)
    s.sendall(struct.pack(">H", len(q)) + q)
    n = struct.unpack(">H", s.recv(2))[0]; r = b""
    while len(r) < n: r += s.recv(n - len(r))
    return "ok rcode=%d answers=%d" % (r[3] & 0xf, struct.unpack(">H", r[6:8])[0])
def step(label, fn):
    try: res = fn()
    except Exception as e: res = name(e)
    print("%s: %s" % (label, res), flush=True)
def sock(fam, typ, proto=0):
    try: socket.socket(fam, typ, proto).close(); return "ok"
    except OSError as e: return name(e)
for a in sys.argv[1:]:
    if a == "tcp-allowed": step(a, lambda: tcp("127.0.0.1", P["allowed"]))
    elif a == "tcp-other": step(a, lambda: tcp("127.0.0.1", P["other"]))
    elif a == "tcp-any-addr": step(a, lambda: tcp("0.0.0.0", P["allowed"]))
    elif a == "tcp-mapped-allowed": step(a, lambda: tcp("::ffff:127.0.0.1", P["allowed"], socket.AF_INET6))
    elif a == "tcp-mapped-other": step(a, lambda: tcp("::ffff:127.0.0.1", P["other"], socket.AF_INET6))
    elif a == "tcp-v6-allowed": step(a, lambda: tcp("::1", P["v6allowed"]))
    elif a == "tcp-v6-other": step(a, lambda: tcp("::1", P["v6other"]))
    elif a == "tcp-v6-any": step(a, lambda: tcp("::", P["v6allowed"]))
    elif a == "tcp-testnet": step(a, lambda: tcp("192.0.2.1", 80))
    elif a == "tcp-cidr-in": step(a, lambda: tcp("192.0.2.200", 9, timeout=1))
    elif a == "udp":
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(3)
        step("udp-sendto-allowed", lambda: udp_roundtrip(u, b"sendto-allowed", ("127.0.0.1", P["uallowed"])))
        step("udp-sendto-testnet", lambda: udp_roundtrip(u, b"sendto-testnet", ("192.0.2.1", 53)))
        v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); v.settimeout(1)
        step("udp-sendto-other", lambda: udp_roundtrip(v, b"sendto-other", ("127.0.0.1", P["uother"])))
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.settimeout(3)
        step("udp-connect-allowed", lambda: (c.connect(("127.0.0.1", P["uallowed"])), udp_roundtrip(c, b"connected"))[1])
        step("udp-unspec", lambda: unspec(c))
        step("udp-reconnect-testnet", lambda: (c.connect(("192.0.2.1", 53)), "ok")[1])
        step("udp-after-unspec-sendto", lambda: udp_roundtrip(c, b"after-unspec", ("192.0.2.1", 53)))
        step("udp-unspec-name", lambda: raw_sendto(c, socket.AF_UNSPEC, "192.0.2.1", 53, b"unspec-name"))
        step("udp-unspec-name-allowed", lambda: raw_sendto(c, socket.AF_UNSPEC, "127.0.0.1", P["uallowed"], b"unspec-allowed"))
        m = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        step("udp-sendmsg-testnet", lambda: (m.sendmsg([b"sendmsg"], [], 0, ("192.0.2.1", 53)), "ok")[1])
        n = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); n.settimeout(3)
        step("udp-sendmsg-long-name", lambda: sendmsg_namelen(n, "127.0.0.1", P["uallowed"], 200, b"long-name"))
        step("udp-sendmsg-negative-name", lambda: sendmsg_namelen(n, "127.0.0.1", P["uallowed"], -1, b"negative"))
    elif a == "udplite":
        L = getattr(socket, "IPPROTO_UDPLITE", 136)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, L); u.settimeout(1)
        step("udplite-host-allowed", lambda: udp_roundtrip(u, b"lite", ("127.0.0.1", P["uallowed"])))
        def own():
            srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, L); srv.bind(("127.0.0.1", P["uallowed"] + 1))
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, L)
            c.sendto(b"own", srv.getsockname()); return "ok " + srv.recv(10).decode()
        step("udplite-own-loopback", own)
    elif a == "udp-v6":
        u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.settimeout(3)
        step("udp-v6-sendto-allowed", lambda: udp_roundtrip(u, b"v6", ("::1", P["u6allowed"])))
        w = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); w.settimeout(3)
        step("udp-v6-mapped-other", lambda: udp_roundtrip(w, b"v6mapped", ("::ffff:192.0.2.1", 53)))
    elif a == "dns":
        step("literal-before-resolving", lambda: tcp("127.0.0.1", P["allowed"]))
        step("resolve-good", lambda: resolve("good.localhost", socket.AF_INET))
        step("resolve-good-v6", lambda: resolve("good.localhost", socket.AF_INET6))
        step("resolve-good-any", lambda: resolve("good.localhost"))
        step("connect-good", lambda: tcp("good.localhost", P["allowed"]))
        step("literal-after-resolving", lambda: tcp("127.0.0.1", P["allowed"]))
        step("good-other-port", lambda: tcp("127.0.0.1", P["other"]))
        step("resolve-evil", lambda: resolve("evil.localhost"))
        step("resolve-alias", lambda: resolve("alias.localhost", socket.AF_INET))
        step("resolve-wild-sub", lambda: resolve("a.wild.localhost", socket.AF_INET))
        step("resolve-wild-bare", lambda: resolve("wild.localhost", socket.AF_INET))
        step("resolve-far", lambda: resolve("far.test", socket.AF_INET))
        step("far-outside-rule", lambda: tcp("far.test", 80))
        step("far-inside-rule", lambda: tcp("far.test", 443, timeout=1))
        step("dns-tcp-good", lambda: dns_tcp("good.localhost"))
        step("dns-tcp-evil", lambda: dns_tcp("evil.localhost"))
    elif a == "unix":
        def uc(path):
            s = socket.socket(socket.AF_UNIX)
            try: s.connect(path); return "ok " + s.recv(100).decode()
            except OSError as e: return name(e)
        step("unix-host-path", lambda: uc(os.path.join(os.path.dirname(sys.argv[0]), "host.sock")))
        step("unix-host-abstract", lambda: uc("\0usbox-test-net-%d" % P["abstract"]))
        step("unix-docker", lambda: uc("/run/docker.sock"))
        def own():
            srv = socket.socket(socket.AF_UNIX); srv.bind("/tmp/own.sock"); srv.listen()
            c = socket.socket(socket.AF_UNIX); c.connect("/tmp/own.sock"); a, _ = srv.accept()
            a.send(b"own"); return "ok %s %o" % (c.recv(10).decode(), os.stat("/tmp/own.sock").st_mode & 0o7777)
        step("unix-own-path", own)
        def own_abstract():
            srv = socket.socket(socket.AF_UNIX); srv.bind("\0usbox-own"); srv.listen()
            c = socket.socket(socket.AF_UNIX); c.connect("\0usbox-own"); srv.accept(); return "ok"
        step("unix-own-abstract", own_abstract)
        step("unix-bind-readonly", lambda: (socket.socket(socket.AF_UNIX).bind("/etc/usbox.sock"), "ok")[1])
        # connect with the address lengths at the kernel's boundaries: the
        # path then 'x' to the end of a 128-byte sockaddr_storage
        def raw_unix(path, n, call=libc.connect):
            s = socket.socket(socket.AF_UNIX)
            sa = struct.pack("=H", socket.AF_UNIX) + path
            r = call(s.fileno(), sa + b"x" * (128 - len(sa)), n)
            return "ok" if r == 0 else errno.errorcode[ctypes.get_errno()]
        keep = socket.socket(socket.AF_UNIX); keep.bind("/tmp/raw.sock"); keep.listen(8)
        step("unix-addr-exact", lambda: raw_unix(b"/tmp/raw.sock", 2 + 13))
        step("unix-addr-nul", lambda: raw_unix(b"/tmp/raw.sock\0", 110))
        step("unix-addr-2", lambda: raw_unix(b"", 2))
        step("unix-addr-111", lambda: raw_unix(b"/tmp/raw.sock\0", 111))
        step("unix-addr-128", lambda: raw_unix(b"/tmp/raw.sock", 128))
        step("unix-bind-128", lambda: raw_unix(b"/tmp/bind128.sock", 128, libc.bind))
        step("unix-bind-autobind", lambda: raw_unix(b"", 2, libc.bind))
        def rights():
            import array
            p, q = socket.socketpair(); r, w = os.pipe()
            p.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [w]))])
            _, anc, _, _ = q.recvmsg(1, socket.CMSG_LEN(4))
            fds = array.array("i"); fds.frombytes(anc[0][2])
            os.write(fds[0], b"through"); return "ok " + os.read(r, 10).decode()
        step("unix-scm-rights", rights)
        def creds():
            p, q = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
            q.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            u = struct.pack("3i", os.getpid(), os.getuid(), os.getgid())
            p.sendmsg([b"c"], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, u)])
            _, anc, _, _ = q.recvmsg(1, 64)
            pid, uid, gid = struct.unpack("3i", anc[0][2])
            return "ok" if (pid, uid, gid) == (os.getpid(), os.getuid(), os.getgid()) else "got %s" % ((pid, uid, gid),)
        step("unix-scm-credentials", creds)
        def creds_forged():
            p, q = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
            u = struct.pack("3i", 1, os.getuid(), os.getgid())
            try: p.sendmsg([b"c"], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS, u)]); return "ok"
            except OSError as e: return name(e)
        step("unix-scm-credentials-forged", creds_forged)
    elif a == "own-server":
        srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", P["other"])); srv.listen()
        def inside():
            c = socket.create_connection(("127.0.0.1", P["other"]), timeout=3); s, _ = srv.accept()
            s.send(b"inside"); return "ok " + c.recv(10).decode()
        step("own-server", inside)
        s6 = socket.socket(socket.AF_INET6); s6.bind(("::1", 0)); s6.listen()
        step("own-server-v6", lambda: (socket.create_connection(("::1", s6.getsockname()[1]), timeout=3), "ok")[1])
    elif a == "sockets":
        step("socket-raw", lambda: sock(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
        step("socket-packet", lambda: sock(socket.AF_PACKET, socket.SOCK_RAW, 0))
        step("socket-netlink-audit", lambda: sock(socket.AF_NETLINK, socket.SOCK_RAW, 9))
        step("socket-vsock", lambda: sock(socket.AF_VSOCK, socket.SOCK_STREAM))
        step("socket-netlink-route", lambda: "ok " + ",".join(n for _, n in socket.if_nameindex()))
        def bindtodevice():
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"lo"); return "ok"
        step("so-bindtodevice", lambda: bindtodevice())
        def netlink_write():
            s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
            msg = struct.pack("=IHHII", 32, 20, 0x405, 1, 0) + bytes(16)  # RTM_NEWADDR
            try: s.sendto(msg, (0, 0)); return "ok"
            except OSError as e: return name(e)
        step("netlink-write", netlink_write)
        def pair(fam):
            try: socket.socketpair(fam); return "ok"
            except OSError as e: return name(e)
        step("socketpair-unix", lambda: pair(socket.AF_UNIX))
        step("socketpair-inet", lambda: pair(socket.AF_INET))
        step("socketpair-tipc", lambda: pair(30))
        def net_caps():
            for l in open("/proc/self/status"):
                if l.startswith(("CapEff", "CapBnd")):
                    if int(l.split()[1], 16) & (1 << 12 | 1 << 13): return "still has " + l.split()[0]
            return "ok none"
        step("net-capabilities", net_caps)
    elif a == "listen-host":
        c = socket.create_connection(("127.0.0.1", P["allowed"]), timeout=3)
        step("listen-host-side", lambda: (c.listen(), "ok")[1])
        step("bind-host-side", lambda: (c.bind(("0.0.0.0", 0)), "ok")[1])
        step("host-side-to-sandbox", lambda: (c.connect(("127.0.0.1", 9)), "ok")[1])
    else:
        print("unknown step " + a); sys.exit(2)
EOF

# ---------------------------------------------------------------- no rules: no network

mark
agent none -- tcp-allowed tcp-testnet tcp-mapped-allowed tcp-any-addr udp dns
expect none tcp-allowed ECONNREFUSED # the sandbox's own 127.0.0.1: nothing listens there
expect none tcp-testnet EACCES
expect none tcp-mapped-allowed ECONNREFUSED
expect none tcp-any-addr ECONNREFUSED
expect none udp-sendto-allowed "timeout|ECONNREFUSED"
expect none udp-sendto-testnet EACCES
expect none udp-connect-allowed "timeout|ECONNREFUSED"
expect none resolve-good "gaierror -[0-9]+"
expect none connect-good "gaierror -[0-9]+"
host_saw "tcp .*|udp .*" 0
host_saw "dns .*" 0 # names never leave the sentry without a rule

# ---------------------------------------------------------------- TCP, IPv4

mark
agent tcp4 --net-allow "127.0.0.1:$P_allowed" --net-allow 192.0.2.0/24 -- \
  tcp-allowed tcp-other tcp-any-addr tcp-mapped-allowed tcp-mapped-other tcp-testnet tcp-cidr-in listen-host
expect tcp4 tcp-allowed "ok hello from allowed"
expect tcp4 tcp-other ECONNREFUSED
expect tcp4 tcp-any-addr "ok hello from allowed" # 0.0.0.0 is the local host
expect tcp4 tcp-mapped-allowed "ok hello from allowed"
expect tcp4 tcp-mapped-other ECONNREFUSED
expect tcp4 tcp-testnet "timeout|ENETUNREACH|EHOSTUNREACH|ECONNREFUSED|ETIMEDOUT" # allowed by the CIDR: tried
expect tcp4 tcp-cidr-in "timeout|ENETUNREACH|EHOSTUNREACH|ECONNREFUSED|ETIMEDOUT"
expect tcp4 listen-host-side EOPNOTSUPP
expect tcp4 bind-host-side EINVAL
expect tcp4 host-side-to-sandbox EACCES
host_saw "tcp allowed" 4
host_saw "tcp other" 0

# ---------------------------------------------------------------- TCP, IPv6

if [ "$HAVE_V6" = 1 ]; then
  mark
  agent tcp6 --net-allow "[::1]:$P_v6allowed" -- tcp-v6-allowed tcp-v6-other tcp-v6-any udp-v6
  expect tcp6 tcp-v6-allowed "ok hello from v6allowed"
  expect tcp6 tcp-v6-other ECONNREFUSED
  expect tcp6 tcp-v6-any "ok hello from v6allowed" # :: is the local host
  expect tcp6 udp-v6-sendto-allowed "timeout|ECONNREFUSED" # no rule for the UDP port
  host_saw "tcp v6allowed" 2
  host_saw "tcp v6other" 0
  mark
  agent udp6 --net-allow "[::1]:$P_u6allowed" -- udp-v6
  expect udp6 udp-v6-sendto-allowed "ok echo v6"
  expect udp6 udp-v6-mapped-other EACCES
  host_saw "udp u6allowed v6" 1
else
  echo "# no IPv6 loopback on this machine: IPv6 cases skipped"
fi

# ---------------------------------------------------------------- UDP, IPv4

mark
agent udp4 --net-allow "127.0.0.1:$P_uallowed" -- udp
expect udp4 udp-sendto-allowed "ok echo sendto-allowed"
expect udp4 udp-sendto-testnet EACCES
expect udp4 udp-sendto-other "timeout|ECONNREFUSED"
expect udp4 udp-connect-allowed "ok echo connected"
expect udp4 udp-unspec ok
expect udp4 udp-reconnect-testnet EACCES
expect udp4 udp-after-unspec-sendto EACCES
expect udp4 udp-unspec-name EACCES # AF_UNSPEC is AF_INET to udp_sendmsg: checked as such
expect udp4 udp-unspec-name-allowed ok
expect udp4 udp-sendmsg-testnet EACCES
expect udp4 udp-sendmsg-long-name "ok echo long-name" # the kernel clamps msg_namelen to 128
expect udp4 udp-sendmsg-negative-name EINVAL
host_saw "udp uallowed (sendto-allowed|connected|unspec-allowed|long-name)" 4
# UDP-Lite: the sandbox's own loopback only, whatever a rule allows
agent udplite --net-allow "127.0.0.1:$P_uallowed" -- udplite
expect udplite udplite-host-allowed EACCES
expect udplite udplite-own-loopback "ok own"
host_saw "udp uother .*" 0

# ---------------------------------------------------------------- names

mark
# (the listeners speak first: these name rules say /any-protocol; the names
# are under .localhost, which may answer loopback: test_net_names.sh)
agent dns --dns-upstream "$DNS" --net-allow "good.localhost:$P_allowed/any-protocol" \
  --net-allow "alias.localhost:$P_allowed/any-protocol" \
  --net-allow "*.wild.localhost" --net-allow far.test:443 --audit "$TMPROOT/dns.audit" -- dns
expect dns literal-before-resolving ECONNREFUSED # a name rule allows only what it resolved to
expect dns resolve-good "ok 127.0.0.1"
expect dns resolve-good-v6 "ok ::1"
expect dns resolve-good-any "ok 127.0.0.1,::1" # A and AAAA at once: glibc's sendmmsg
expect dns connect-good "ok hello from allowed"
expect dns literal-after-resolving "ok hello from allowed"
expect dns good-other-port ECONNREFUSED
expect dns resolve-evil "gaierror -2|gaierror -5"
expect dns resolve-alias "ok 127.0.0.1"
expect dns resolve-wild-sub "ok 127.0.0.1"
expect dns resolve-wild-bare "gaierror -2|gaierror -5"
expect dns resolve-far "ok 192.0.2.44"
expect dns far-outside-rule EACCES # resolved, but its rule says 443
expect dns far-inside-rule "timeout|ENETUNREACH|EHOSTUNREACH|ECONNREFUSED|ETIMEDOUT"
expect dns dns-tcp-good "ok rcode=0 answers=1"
expect dns dns-tcp-evil "ok rcode=3 answers=0"
host_saw "dns evil.localhost .*" 0
host_saw "dns wild.localhost .*" 0
expect_grep "the upstream answered good.localhost" "^dns good.localhost 1$" "$HLOG"
host_saw "tcp allowed" 2
host_saw "tcp other" 0
expect_grep "audit: an allowed connect names its destination and rule" \
  "\"syscall\":\"connect\",\"arg\":\"tcp 127.0.0.1:$P_allowed\",\"decision\":\"emulate\",\"errno\":(0|\"EINPROGRESS\"),.*\"rule\":\"net-allow good.localhost:$P_allowed/any-protocol \(good.localhost resolved here\)\"" \
  "$TMPROOT/dns.audit"
expect_grep "audit: a refused connect says why" \
  "\"arg\":\"tcp 192.0.2.44:80\",\"decision\":\"deny\",\"errno\":\"EACCES\",.*\"rule\":\"no --net-allow rule allows it\"" \
  "$TMPROOT/dns.audit"
expect_grep "audit: a refused name" '"syscall":"dns","arg":"evil.localhost","decision":"deny"' "$TMPROOT/dns.audit"
expect_grep "audit: an allowed name and its rule" \
  '"syscall":"dns","arg":"a.wild.localhost","decision":"emulate",.*"rule":"net-allow \*.wild.localhost"' \
  "$TMPROOT/dns.audit"

# ---------------------------------------------------------------- unix sockets

mark
made_docker=0
if [ ! -e /run/docker.sock ] && [ -d /run ] && [ "$(id -u)" = 0 ]; then
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind("/run/docker.sock")' && made_docker=1
fi
agent unix -- unix
expect unix unix-host-path "ok hello from path"
expect unix unix-host-abstract ECONNREFUSED # the host's abstract names are another namespace's
[ -e /run/docker.sock ] && expect unix unix-docker ENOENT # hidden by default
expect unix unix-own-path "ok own $(printf %o $((0777 & ~0$(umask))))"
expect unix unix-own-abstract ok
expect unix unix-bind-readonly EROFS
expect unix unix-addr-exact ok # no NUL: the length ends the path
expect unix unix-addr-nul ok
expect unix unix-addr-2 EINVAL # the family alone names nothing
expect unix unix-addr-111 EINVAL # longer than struct sockaddr_un
expect unix unix-addr-128 EINVAL # (the sentry once copied 126 bytes of it into 109)
expect unix unix-bind-128 EINVAL
expect unix unix-bind-autobind ok # the family alone: the kernel picks an abstract name
expect unix unix-scm-rights "ok through"
expect unix unix-scm-credentials ok
expect unix unix-scm-credentials-forged EPERM
host_saw "unix path" 1
host_saw "unix abstract" 0
[ "$made_docker" = 1 ] && rm -f /run/docker.sock
agent unixhidden --hide "$TMPROOT/host.sock" -- unix
expect unixhidden unix-host-path ENOENT

# ---------------------------------------------------------------- the sandbox's own loopback

mark
agent own --net-allow "127.0.0.1:$P_allowed" -- own-server
expect own own-server "ok inside"
[ "$HAVE_V6" = 1 ] && expect own own-server-v6 ok
host_saw "tcp other" 0

# ---------------------------------------------------------------- sockets

agent sockets -- sockets
expect sockets socket-raw EPERM
expect sockets socket-packet EPERM
expect sockets socket-netlink-audit EPROTONOSUPPORT
expect sockets socket-vsock EAFNOSUPPORT
expect sockets socket-netlink-route "ok lo"
expect sockets so-bindtodevice EPERM
expect sockets netlink-write EPERM
expect sockets socketpair-unix ok
expect sockets socketpair-inet EOPNOTSUPP
expect sockets socketpair-tipc EAFNOSUPPORT # no module loaded for it
expect sockets net-capabilities "ok none" # CAP_NET_ADMIN and CAP_NET_RAW are gone

# ---------------------------------------------------------------- races (tests/attacks/net_race.c)

if [ -x "${ATTACKS:-}/net_race" ]; then
  mark
  expect_exit 0 "net_race: connect/sendto/sendmsg/fd races never reach a denied port" -- \
    "$USBOX" exec --net-allow "127.0.0.1:$P_allowed" --net-allow "127.0.0.1:$P_uallowed" -- \
    "$ATTACKS/net_race" --seconds 1 "$P_allowed" "$P_other" "$P_uallowed" "$P_uother"
  grep -q '^FAIL' "$OUT" && show stdout "$OUT"
  host_saw "tcp other" 0
  host_saw "udp uother .*" 0
else
  fail "the attack program net_race was not built (ATTACKS=${ATTACKS:-})"
fi

# ---------------------------------------------------------------- --net host

mark
agent host --net host -- tcp-other
expect host tcp-other "ok hello from other"
host_saw "tcp other" 1

# ---------------------------------------------------------------- bad flags

for bad in "--net-allow example.com:0" "--net-allow *:443" "--net-allow 10.0.0.0/33" \
  "--net bogus" "--dns-upstream nowhere" "--net none --net-allow 1.2.3.4"; do
  # shellcheck disable=SC2086
  if expect_exit 125 "bad flag: $bad" -- "$USBOX" exec $bad -- true; then
    expect_eq "bad flag: $bad: one line" 1 "$(wc -l <"$ERR")"
  fi
done
echo '{"network": {"allow": ["10.0.0.0/8:5432"], "colour": "blue"}}' >"$TMPROOT/bad.json"
expect_exit 125 "policy: unknown network field" -- "$USBOX" exec --policy "$TMPROOT/bad.json" -- true
expect_grep "policy: the field is named by its JSON path" '\.network\.colour: unknown field' "$ERR"
echo "{\"network\": {\"allow\": [\"127.0.0.1:$P_allowed\"]}}" >"$TMPROOT/good.json"
mark
agent json --policy "$TMPROOT/good.json" -- tcp-allowed
expect json tcp-allowed "ok hello from allowed"

finish
