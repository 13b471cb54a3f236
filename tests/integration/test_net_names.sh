#!/usr/bin/env bash
# Name rules mean their name (issue 14). Everything runs on this machine: a
# DNS responder, a TLS server, an HTTP server and a server that speaks
# first, on host loopback addresses; --dns-upstream points at the
# responder. Two names under .localhost (RFC 6761: local names, which may
# answer loopback) resolve to the same address. Inside the sandbox a client
# naming the allowed name gets through; naming the other one (same address,
# as `curl --resolve` does), naming none, or speaking another protocol is
# reset, and the server never sees a request. IP rules are not inspected;
# `localhost` in a rule is the host's loopback; DNS answers that rebind a
# name to a local address are refused; rules that can never match are
# errors at start.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net_lib.sh"

command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }
command -v openssl >/dev/null || { echo "openssl is needed" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 1; }
HAVE_V6=1
python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null || HAVE_V6=0

# A certificate for every name the servers answer as.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=a.localhost \
  -addext "subjectAltName=DNS:a.localhost,DNS:b.localhost,DNS:x.w.localhost,DNS:y.w.localhost" \
  -keyout "$TMPROOT/key.pem" -out "$TMPROOT/cert.pem" 2>/dev/null ||
  { echo "openssl could not make a certificate" >&2; exit 1; }

# ---------------------------------------------------------------- the host's side

cat >"$TMPROOT/hostsrv.py" <<'EOF'
import os, socket, ssl, struct, sys, threading
d, log, have_v6 = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
lock = threading.Lock()
def note(line):
    with lock, open(log, "a") as f: f.write(line + "\n")
ports = {}
def serve(name, addr, handle, fam=socket.AF_INET):
    s = socket.socket(fam); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, ports.get(name + "-port", 0))); s.listen(64); ports[name] = s.getsockname()[1]
    def loop():
        while True:
            c, _ = s.accept()
            threading.Thread(target=lambda: guarded(handle, c), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
def guarded(handle, c):
    try: handle(c)
    except Exception as e: note("error %s" % type(e).__name__)
    finally: c.close()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.path.join(d, "cert.pem"), os.path.join(d, "key.pem"))
def sni(sock, name, _ctx): sock.sni = name
ctx.sni_callback = sni
def tls(c):
    t = ctx.wrap_socket(c, server_side=True)
    req = t.recv(100).decode(errors="replace")
    name = getattr(t, "sni", None)
    note("tls sni=%s req=%s" % (name, req.split("\r\n")[0].strip()))
    head = "HTTP/1.0 200 OK\r\n\r\n" if req.startswith("GET /") else ""  # curl wants HTTP
    t.sendall((head + "tls hello %s" % name).encode())
def http(c):
    data = b""
    while b"\r\n\r\n" not in data:
        more = c.recv(4096)
        if not more: break
        data += more
    host = [l.split(b":", 1)[1].strip().decode() for l in data.split(b"\r\n") if l.lower().startswith(b"host:")]
    note("http host=%s" % (host[0] if host else None))
    c.sendall(("HTTP/1.0 200 OK\r\n\r\nhttp hello %s" % (host[0] if host else None)).encode())
def greet(c):
    note("greet"); c.sendall(b"SSH-2.0-hostsrv\r\n"); c.recv(100)
def hello(c):
    note("hello"); c.sendall(b"hello from the host's loopback")
def sink(c):  # the bench's: a byte count, then that many bytes
    n = int(c.recv(100).split()[-1]); buf = b"x" * 65536
    while n > 0:
        c.sendall(buf[:min(n, 65536)]); n -= 65536
NAMES = {"a.localhost": "127.0.0.3", "b.localhost": "127.0.0.3", "x.w.localhost": "127.0.0.3",
         "y.w.localhost": "127.0.0.3", "ssh.localhost": "127.0.0.3", "far.test": "192.0.2.10",
         "rebind.test": "127.0.0.1", "private.test": "10.1.2.3", "meta.test": "169.254.169.254",
         "mixed.test": ["192.0.2.11", "192.168.1.1"], "ok-private.test": "10.9.9.9",
         "v6local.test": "fd00::1"}
def answer(q):
    qid = struct.unpack(">H", q[:2])[0]
    off, labels = 12, []
    while q[off]:
        labels.append(q[off + 1:off + 1 + q[off]].decode()); off += 1 + q[off]
    name = ".".join(labels).lower(); off += 1
    qtype = struct.unpack(">H", q[off:off + 2])[0]
    note("dns %s %d" % (name, qtype))
    vals = NAMES.get(name, [])
    vals = [vals] if isinstance(vals, str) else vals
    recs = []
    for v in vals:
        if qtype == 1 and ":" not in v:
            recs.append(b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(v))
        if qtype == 28 and ":" in v:
            recs.append(b"\xc0\x0c" + struct.pack(">HHIH", 28, 1, 60, 16) + socket.inet_pton(socket.AF_INET6, v))
    rcode = 0 if name in NAMES else 3
    return struct.pack(">HHHHHH", qid, 0x8180 | rcode, 1, len(recs), 0, 0) + q[12:off + 4] + b"".join(recs)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.2", 0)); ports["dns"] = u.getsockname()[1]
def uloop():
    while True:
        q, a = u.recvfrom(4096); u.sendto(answer(q), a)
threading.Thread(target=uloop, daemon=True).start()
serve("tls", "127.0.0.3", tls)
serve("http", "127.0.0.3", http)
serve("greet", "127.0.0.3", greet)
serve("sink", "127.0.0.3", sink)
serve("hello", "127.0.0.1", hello)
if have_v6:
    ports["hello6-port"] = ports["hello"]
    try: serve("hello6", "::1", hello, socket.AF_INET6)
    except OSError: pass
ports = {k: v for k, v in ports.items() if not k.endswith("-port")}
with open(os.path.join(d, "ports.tmp"), "w") as f:
    for k, v in ports.items(): f.write("%s=%d\n" % (k, v))
os.rename(os.path.join(d, "ports.tmp"), os.path.join(d, "ports"))
threading.Event().wait()
EOF

HLOG=$TMPROOT/host.log
: >"$HLOG"
python3 "$TMPROOT/hostsrv.py" "$TMPROOT" "$HLOG" "$HAVE_V6" &
track_bg $!
for _ in $(seq 100); do [ -s "$TMPROOT/ports" ] && break; sleep 0.05; done
[ -s "$TMPROOT/ports" ] || { echo "the host's servers did not start" >&2; exit 1; }
while IFS== read -r k v; do eval "P_$k=$v"; done <"$TMPROOT/ports"
DNS="127.0.0.2:$P_dns"

# ---------------------------------------------------------------- the agent

# agent.py STEP...: each prints "STEP: RESULT", RESULT "ok DATA" or the
# errno's name.
cat >"$TMPROOT/agent.py" <<'EOF'
import errno, os, socket, ssl, sys, time
D = os.path.dirname(sys.argv[0])
P = {k: int(v) for k, v in (l.strip().split("=") for l in open(os.path.join(D, "ports")))}
def name(e):
    if isinstance(e, socket.gaierror): return "gaierror"
    if isinstance(e, (TimeoutError, socket.timeout)): return "timeout"
    if isinstance(e, ssl.SSLError): return "ssl " + (e.reason or str(e))
    if isinstance(e, OSError) and e.errno: return errno.errorcode.get(e.errno, str(e))
    return type(e).__name__ + " " + str(e)
def step(label, fn):
    try: res = fn()
    except Exception as e: res = name(e)
    print("%s: %s" % (label, res), flush=True)
def conn(host, port):
    if host.startswith("::ffff:"):  # the IPv4 address, spelt as IPv6 (an alias)
        s = socket.socket(socket.AF_INET6); s.settimeout(15); s.connect((host, port)); return s
    s = socket.create_connection((host, port), timeout=15); return s
def tls(host, port, sni, send_first=None):
    """connect to host (a name resolved here, or an address), TLS with sni
    (None: no SNI)"""
    ctx = ssl.create_default_context(cafile=os.path.join(D, "cert.pem"))
    if sni is None:
        ctx.check_hostname = False
    s = conn(host, port)
    t = ctx.wrap_socket(s, server_hostname=sni)
    t.sendall(b"GET"); return "ok " + t.recv(100).decode()
def http(host, port, hosthdr):
    s = conn(host, port)
    s.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: t\r\n\r\n" % hosthdr).encode())
    data = b""
    while True:
        more = s.recv(4096)
        if not more: break
        data += more
    return "ok " + data.split(b"\r\n\r\n", 1)[1].decode()
def trickle_hello(host, port, sni):
    """the ClientHello one byte per send: judged on the whole of it"""
    import ssl as _s
    ctx = _s.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = _s.CERT_NONE
    inc, out = _s.MemoryBIO(), _s.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=sni)
    try: obj.do_handshake()
    except _s.SSLWantReadError: pass
    hello = out.read()
    s = conn(host, port); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for b in hello:
        s.send(bytes([b])); time.sleep(0.001)
    s.settimeout(5)
    data = s.recv(100)
    return "ok got %d bytes" % len(data) if data else "EOF"
def greet(host, port, speak_first):
    s = conn(host, port)
    if speak_first: s.sendall(b"SSH-2.0-agent\r\n")
    s.settimeout(15)
    data = s.recv(100)
    return "ok " + data.decode().strip() if data else "EOF"
def resolve(host):
    return "ok " + ",".join(sorted({a[4][0] for a in socket.getaddrinfo(host, 80, socket.AF_UNSPEC, socket.SOCK_STREAM)}))
def peer(host, port, sni):
    ctx = ssl.create_default_context(cafile=os.path.join(D, "cert.pem"))
    s = conn(host, port); t = ctx.wrap_socket(s, server_hostname=sni)
    p, l = t.getpeername(), t.getsockname()
    t.sendall(b"GET"); t.recv(100)
    return "ok %s:%d local %s" % (p[0], p[1], l[0])
def udp(host, port):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"x", (socket.gethostbyname(host), port)); return "ok"
def relay_listener():
    """usbox's own listener in the sandbox: never reachable directly"""
    for l in open("/proc/net/tcp").readlines()[1:]:
        f = l.split()
        if f[3] == "0A" and f[1].startswith("FEFFFF7F:"):
            port = int(f[1].split(":")[1], 16)
            s = socket.socket(); s.settimeout(3)
            s.connect(("127.255.255.254", port)); return "ok connected"
    return "no listener"
def sink(host, port, n):
    s = conn(host, port); s.sendall(("GET /%d HTTP/1.1\r\nHost: %s\r\n\r\n%d" % (n, host, n)).encode())
    got, t0 = 0, time.time()
    while got < n:
        d = s.recv(1 << 20)
        if not d: break
        got += len(d)
    return "ok %d bytes %.1f ms" % (got, (time.time() - t0) * 1e3)
for a in sys.argv[1:]:
    op, *args = a.split(",")
    fn = {"tls": lambda: tls(args[0], int(P[args[1]]), args[2] if len(args) > 2 else args[0]),
          "tls-nosni": lambda: tls(args[0], int(P[args[1]]), None),
          "http": lambda: http(args[0], int(P[args[1]]), args[2]),
          "trickle": lambda: trickle_hello(args[0], int(P[args[1]]), args[2]),
          "greet": lambda: greet(args[0], int(P[args[1]]), args[2] == "1"),
          "resolve": lambda: resolve(args[0]),
          "peer": lambda: peer(args[0], int(P[args[1]]), args[2]),
          "udp": lambda: udp(args[0], int(P[args[1]])),
          "relay-listener": relay_listener,
          "sink": lambda: sink(args[0], int(P[args[1]]), int(args[2])),
          "tcp": lambda: "ok " + conn(args[0], int(P[args[1]])).recv(100).decode()}[op]
    step(a, fn)
EOF

AGENT_OPTS=(--dns-upstream "$DNS" --audit "$TMPROOT/{LABEL}.audit")
RESET="ECONNRESET|EOF|ssl .*EOF.*|ssl .*RESET.*|EPIPE"

# ---------------------------------------------------------------- TLS: the server name

mark
agent tls --net-allow "a.localhost:$P_tls" -- \
  "tls,a.localhost,tls" "tls,127.0.0.3,tls,b.localhost" "tls-nosni,127.0.0.3,tls" \
  "trickle,127.0.0.3,tls,b.localhost" "trickle,127.0.0.3,tls,a.localhost" "peer,a.localhost,tls,a.localhost" \
  "tls,b.localhost,tls" "udp,a.localhost,tls" "relay-listener" \
  "tls,::ffff:127.0.0.3,tls,a.localhost" "tls,::ffff:127.0.0.3,tls,b.localhost"
expect tls "tls,a.localhost,tls" "ok tls hello a.localhost"
# the same address, another name (curl --resolve's way): reset, nothing sent
expect tls "tls,127.0.0.3,tls,b.localhost" "$RESET"
expect tls "tls-nosni,127.0.0.3,tls" "$RESET"
# a ClientHello in one-byte pieces is judged whole
expect tls "trickle,127.0.0.3,tls,b.localhost" "$RESET"
expect tls "trickle,127.0.0.3,tls,a.localhost" "ok got [0-9]+ bytes"
# what the agent's socket shows is the destination, not usbox's relay
# (natively too the host picks 127.0.0.1 as the source towards 127.0.0.3)
expect tls "peer,a.localhost,tls,a.localhost" "ok 127.0.0.3:$P_tls local 127.0.0.1"
expect tls "tls,b.localhost,tls" gaierror # no rule names it: it does not resolve
expect tls "udp,a.localhost,tls" EACCES   # UDP carries no name the sentry sees first
expect tls "relay-listener" "EACCES|no listener"
# the same address spelt as IPv4-mapped IPv6 is the same destination
expect tls "tls,::ffff:127.0.0.3,tls,a.localhost" "ok tls hello a.localhost"
expect tls "tls,::ffff:127.0.0.3,tls,b.localhost" "$RESET"
host_saw "tls sni=a.localhost req=GET" 3
host_saw "tls sni=b.localhost.*|tls sni=None.*" 0
host_saw "dns b.localhost .*" 0
expect_grep "audit: the refused name is in the log" \
  "\"syscall\":\"net-name\",\"arg\":\"tcp 127.0.0.3:$P_tls tls name b.localhost\",\"decision\":\"deny\".*\"rule\":\"net-allow a.localhost:$P_tls: the connection names b.localhost" \
  "$TMPROOT/tls.audit"
expect_grep "audit: a missing SNI is named as such" \
  "\"syscall\":\"net-name\",.*\"decision\":\"deny\".*without a server name" "$TMPROOT/tls.audit"
expect_grep "audit: the allowed name too" \
  "\"syscall\":\"net-name\",\"arg\":\"tcp 127.0.0.3:$P_tls tls name a.localhost\",\"decision\":\"emulate\"" \
  "$TMPROOT/tls.audit"

# curl, as a user would try it: the allowed name works; another name on the
# same address (--resolve) is refused before anything reaches the server.
# (curl answers *.localhost itself with its loopback: the sandbox resolves
# a.localhost first, and curl is told the address as for both names.)
mark
curl_pair() {
  "$USBOX" exec --dns-upstream "$DNS" --net-allow "a.localhost:$P_tls" -- sh -c "
    python3 -c 'import socket; socket.getaddrinfo(\"a.localhost\", 80)' || exit 9
    for n in a b; do
      curl -sS --max-time 20 --cacert $TMPROOT/cert.pem --resolve \$n.localhost:$P_tls:127.0.0.3 \
        https://\$n.localhost:$P_tls/ ; echo \" rc=\$?\"
    done"
}
expect_exit 0 "curl under a name rule" -- curl_pair
expect_grep "curl: the allowed name" "^tls hello a.localhost rc=0$" "$OUT"
expect_grep "curl: --resolve of another name is reset" "^ rc=(35|56)$" "$OUT"
host_saw "tls sni=b.localhost.*" 0

# ---------------------------------------------------------------- plain HTTP: the Host header

mark
agent http --net-allow "a.localhost:$P_http" -- \
  "http,a.localhost,http,a.localhost" "http,127.0.0.3,http,b.localhost" "resolve,a.localhost" \
  "http,127.0.0.3,http,a.localhost:$P_http" "tls,a.localhost,tls"
expect http "http,a.localhost,http,a.localhost" "ok http hello a.localhost"
expect http "http,127.0.0.3,http,b.localhost" "$RESET"
expect http "http,127.0.0.3,http,a.localhost:$P_http" "ok http hello a.localhost:$P_http"
# the rule's port is the HTTP one: a loopback address no rule allows is the
# sandbox's own loopback, where nothing listens
expect http "tls,a.localhost,tls" ECONNREFUSED
host_saw "http host=a.localhost.*" 2
host_saw "http host=b.localhost" 0

# ---------------------------------------------------------------- a name rule's wildcard

mark
agent wild --net-allow "*.w.localhost:$P_tls" -- "resolve,x.w.localhost" \
  "tls,127.0.0.3,tls,y.w.localhost" "tls,127.0.0.3,tls,a.localhost"
expect wild "resolve,x.w.localhost" "ok 127.0.0.3"
expect wild "tls,127.0.0.3,tls,y.w.localhost" "ok tls hello y.w.localhost" # the rule names it too
expect wild "tls,127.0.0.3,tls,a.localhost" "$RESET"
host_saw "tls sni=a.localhost.*" 0

# ---------------------------------------------------------------- protocols that name nothing

mark
agent greet --net-allow "ssh.localhost:$P_greet" -- "greet,ssh.localhost,greet,1"
expect greet "greet,ssh.localhost,greet,1" "$RESET"
expect_grep "audit: why a protocol that names nothing is refused" \
  "\"syscall\":\"net-name\".*\"decision\":\"deny\".*neither a TLS ClientHello nor an HTTP/1 request \(\\\\\"SSH-2.0-agen\\\\\"\).*/any-protocol" \
  "$TMPROOT/greet.audit"
host_saw "greet" 1 # the connection was made, then reset: nothing was sent to it
agent greet-any --net-allow "ssh.localhost:$P_greet/any-protocol" -- \
  "greet,ssh.localhost,greet,0" "udp,ssh.localhost,greet"
expect greet-any "greet,ssh.localhost,greet,0" "ok SSH-2.0-hostsrv"
expect greet-any "udp,ssh.localhost,greet" ok

# ---------------------------------------------------------------- IP rules are not inspected

mark
agent ip --net-allow "127.0.0.3:$P_tls" -- "tls,127.0.0.3,tls,b.localhost" "tls-nosni,127.0.0.3,tls" \
  "peer,127.0.0.3,tls,a.localhost"
expect ip "tls,127.0.0.3,tls,b.localhost" "ok tls hello b.localhost"
expect ip "tls-nosni,127.0.0.3,tls" "ok tls hello None"
expect ip "peer,127.0.0.3,tls,a.localhost" "ok 127.0.0.3:$P_tls local 127.0.0.1"

# ---------------------------------------------------------------- localhost means the host's loopback

mark
agent localhost --net-allow "localhost:$P_hello" -- "tcp,127.0.0.1,hello" "tcp,::1,hello" "tcp,127.0.0.2,hello"
expect localhost "tcp,127.0.0.1,hello" "ok hello from the host's loopback"
if [ "$HAVE_V6" = 1 ] && [ -n "${P_hello6:-}" ]; then
  expect localhost "tcp,::1,hello" "ok hello from the host's loopback"
fi
expect localhost "tcp,127.0.0.2,hello" ECONNREFUSED # the sandbox's own: localhost is 127.0.0.1 and ::1
agent no-localhost -- "tcp,127.0.0.1,hello"
expect no-localhost "tcp,127.0.0.1,hello" ECONNREFUSED
host_saw "hello" "$((1 + HAVE_V6))"

# ---------------------------------------------------------------- DNS rebinding

mark
agent rebind --net-allow rebind.test --net-allow private.test --net-allow meta.test \
  --net-allow mixed.test --net-allow ok-private.test --net-allow 10.9.9.9 --net-allow v6local.test -- \
  "resolve,rebind.test" "resolve,private.test" "resolve,meta.test" "resolve,mixed.test" \
  "resolve,ok-private.test" "resolve,far.test" "resolve,v6local.test"
expect rebind "resolve,rebind.test" gaierror
expect rebind "resolve,private.test" gaierror
expect rebind "resolve,meta.test" gaierror
expect rebind "resolve,mixed.test" gaierror # one local address refuses the whole answer
expect rebind "resolve,ok-private.test" "ok 10.9.9.9" # an IP rule allows that address
expect rebind "resolve,v6local.test" gaierror
expect_grep "audit: rebinding is named" \
  '"syscall":"dns","arg":"meta.test","decision":"deny",.*"rule":"net-allow meta.test: answered 169.254.169.254, a local address no IP/CIDR rule allows \(DNS rebinding\)' \
  "$TMPROOT/rebind.audit"

# ---------------------------------------------------------------- rules that can never match

for spec in "usbox" "usbox:443" "10.0.0.1:22/any-protocol" "localhost/any-protocol"; do
  expect_exit 125 "--net-allow $spec is an error" -- "$USBOX" exec --net-allow "$spec" -- true
  expect_grep "--net-allow $spec: one line naming it" "^usbox: .*--net-allow $spec" "$ERR"
done
expect_exit 125 "a rule naming --hostname is an error" -- "$USBOX" exec --hostname box1 --net-allow box1 -- true
ns=$(awk '/^nameserver/ {print $2; exit}' /etc/resolv.conf)
if [ -n "$ns" ] && [[ "$ns" != *:* ]]; then
  expect_exit 125 "a rule for the resolver's own address and port is an error" -- \
    "$USBOX" exec --net-allow "$ns:53" -- true
fi
finish
