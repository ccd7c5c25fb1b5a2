// beskar-peer plays Beskar's side of the gossip contract for the TypeScript plugin SDK tests, the way
// Beskar's internal/pkg/gossip sets up hashicorp/memberlist: DefaultLANConfig, a random UUID as node
// name, the AES key in a keyring, a gob-encoded BeskarMeta as node meta and a delegate whose push/pull
// state is the CA JSON (sent only when joining; the first state received when joining is kept).
//
// Every NodeJoin/NodeUpdate/NodeLeave (with the meta decoded by encoding/gob), every push/pull state
// received, every completed probe and the join result are printed to stdout as JSON lines.
//
// With -ca it shares a fresh P-384 CA (mtls.go) instead of the fake -state, registers Ready plugins by
// fetching their /info over mTLS (plugins.go); -control serves an API the tests use to make it post
// events to a plugin; -registry stands in for Beskar's registry port (mTLS) and records plugin requests.
//
// Subcommands for the certificate tests: `beskar-peer ca` prints a fresh CA as the JSON state;
// `beskar-peer check-cert` reads {caCert, caKey, leaf, leafKey, ip, dns} (PEM texts) on stdin and prints
// what crypto/x509 and crypto/tls make of them.
//
// Build (GOPATH mode, Debian's golang-github-hashicorp-memberlist-dev, which brings
// google.golang.org/protobuf along):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$TMP/gocache go build -o beskar-peer .
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/gob"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/memberlist"
)

// BeskarMeta is Beskar's node metadata (internal/pkg/gossip/member_meta.go), in its field order.
type BeskarMeta struct {
	InstanceType uint8
	Ready        bool
	ServicePort  uint16
	RegistryPort uint16
	Hostname     string
}

func (m *BeskarMeta) encode() []byte {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(m); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// printer serialises JSON lines from memberlist's goroutines onto stdout.
type printer struct {
	mu sync.Mutex
}

func (p *printer) print(v map[string]interface{}) {
	line, err := json.Marshal(v)
	if err != nil {
		line = []byte(fmt.Sprintf(`{"event":"printError","error":%q}`, err.Error()))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	os.Stdout.Write(append(line, '\n'))
}

type delegate struct {
	out         *printer
	hook        func(kind string, n *memberlist.Node)
	mu          sync.Mutex
	meta        []byte
	localState  []byte
	remoteState []byte
}

func nodeEvent(kind string, n *memberlist.Node) map[string]interface{} {
	ev := map[string]interface{}{
		"event": kind,
		"name":  n.Name,
		"addr":  n.Addr.String(),
		"port":  n.Port,
		"pcur":  n.PCur,
		"pmax":  n.PMax,
	}
	var meta BeskarMeta
	if len(n.Meta) == 0 {
		ev["metaError"] = "empty meta"
	} else if err := gob.NewDecoder(bytes.NewReader(n.Meta)).Decode(&meta); err != nil {
		ev["metaError"] = err.Error()
	} else {
		ev["meta"] = meta
	}
	return ev
}

func (d *delegate) notify(kind string, n *memberlist.Node) {
	d.out.print(nodeEvent(kind, n))
	if d.hook != nil {
		d.hook(kind, n)
	}
}

func (d *delegate) NotifyJoin(n *memberlist.Node)   { d.notify("join", n) }
func (d *delegate) NotifyLeave(n *memberlist.Node)  { d.notify("leave", n) }
func (d *delegate) NotifyUpdate(n *memberlist.Node) { d.notify("update", n) }

func (d *delegate) NodeMeta(limit int) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.meta
}

func (d *delegate) NotifyMsg(b []byte) {
	d.out.print(map[string]interface{}{"event": "message", "payload": string(b)})
}

func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }

// LocalState as Beskar: the state only for joins.
func (d *delegate) LocalState(join bool) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	if join && d.localState != nil {
		return d.localState
	}
	return nil
}

// MergeRemoteState as Beskar: keep the first state received when joining.
func (d *delegate) MergeRemoteState(buf []byte, join bool) {
	d.mu.Lock()
	stored := false
	if join && d.remoteState == nil {
		if d.localState == nil {
			d.localState = buf
		}
		d.remoteState = buf
		stored = true
	}
	d.mu.Unlock()
	d.out.print(map[string]interface{}{"event": "remoteState", "join": join, "stored": stored, "state": string(buf)})
}

type pingDelegate struct{ out *printer }

func (p *pingDelegate) AckPayload() []byte { return nil }
func (p *pingDelegate) NotifyPingComplete(other *memberlist.Node, rtt time.Duration, payload []byte) {
	p.out.print(map[string]interface{}{"event": "ping", "name": other.Name, "rttMs": float64(rtt.Microseconds()) / 1000})
}

func uuid() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

const beskarDefaultKey = "XD1IOhcp0HWFgZJ/HAaARqMKJwfMWtz284Yj7wxmerA="

func main() {
	if len(os.Args) > 1 && runTool(os.Args[1]) {
		return
	}
	bind := flag.String("bind", "127.0.0.1", "bind and advertise address")
	port := flag.Int("port", 0, "gossip port (0: any)")
	key := flag.String("key", beskarDefaultKey, "gossip key, base64 (empty: no encryption)")
	wrongKey := flag.Bool("wrong-key", false, "use a random key instead of -key")
	join := flag.String("join", "", "comma-separated peers to join once started")
	hostname := flag.String("hostname", "localhost", "BeskarMeta.Hostname")
	registryPort := flag.Int("registry-port", 5100, "BeskarMeta.RegistryPort")
	servicePort := flag.Int("service-port", 5103, "BeskarMeta.ServicePort")
	ready := flag.Bool("ready", true, "BeskarMeta.Ready")
	state := flag.String("state", `{"cert":"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCmZha2UKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=","key":"LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCmZha2UKLS0tLS1FTkQgRUMgUFJJVkFURSBLRVktLS0tLQo="}`, "local push/pull state (Beskar: the CA JSON)")
	logs := flag.Bool("log", false, "memberlist logs to stderr")
	membersEvery := flag.Duration("members-every", 0, "print the member list this often")
	freshCA := flag.Bool("ca", false, "share a fresh P-384 CA as state and register Ready plugins as Beskar does")
	control := flag.String("control", "", "with -ca: address of the control API (host:port)")
	registry := flag.Bool("registry", false, "with -ca: serve a registry stand-in on -bind, its port as RegistryPort")
	flag.Parse()

	out := &printer{}
	var plugins *pluginManager
	started := map[string]interface{}{"event": "started"}
	if *freshCA {
		ca := generateCA()
		*state = string(ca.marshal())
		started["caCert"] = string(ca.Cert)
		plugins = newPluginManager(out, ca)
		if *control != "" {
			ln, err := net.Listen("tcp", *control)
			if err != nil {
				out.print(map[string]interface{}{"event": "fatal", "error": err.Error()})
				os.Exit(1)
			}
			started["controlPort"] = ln.Addr().(*net.TCPAddr).Port
			go plugins.serveControl(ln)
		}
		if *registry {
			ln, err := net.Listen("tcp", net.JoinHostPort(*bind, "0"))
			if err != nil {
				out.print(map[string]interface{}{"event": "fatal", "error": err.Error()})
				os.Exit(1)
			}
			*registryPort = ln.Addr().(*net.TCPAddr).Port
			go plugins.serveRegistry(ln, *hostname)
		}
	}
	meta := &BeskarMeta{
		InstanceType: 1,
		Ready:        *ready,
		ServicePort:  uint16(*servicePort),
		RegistryPort: uint16(*registryPort),
		Hostname:     *hostname,
	}
	d := &delegate{out: out, meta: meta.encode(), localState: []byte(*state)}
	if plugins != nil {
		d.hook = plugins.onNode
	}

	cfg := memberlist.DefaultLANConfig()
	cfg.Name = uuid()
	cfg.BindAddr = *bind
	cfg.BindPort = *port
	cfg.AdvertiseAddr = *bind
	cfg.AdvertisePort = *port
	cfg.Delegate = d
	cfg.Events = d
	cfg.Ping = &pingDelegate{out: out}
	cfg.LogOutput = ioutil.Discard
	if *logs {
		cfg.LogOutput = nil
		cfg.Logger = log.New(os.Stderr, "memberlist ", log.LstdFlags|log.Lmicroseconds)
	}
	keyring, _ := memberlist.NewKeyring(nil, nil)
	cfg.Keyring = keyring
	if *wrongKey {
		k := make([]byte, 32)
		rand.Read(k)
		*key = base64.StdEncoding.EncodeToString(k)
	}
	if *key != "" {
		k, err := base64.StdEncoding.DecodeString(*key)
		if err == nil {
			err = keyring.AddKey(k)
		}
		if err != nil {
			out.print(map[string]interface{}{"event": "fatal", "error": "bad key: " + err.Error()})
			os.Exit(2)
		}
	} else {
		cfg.Keyring = nil
	}

	ml, err := memberlist.Create(cfg)
	if err != nil {
		out.print(map[string]interface{}{"event": "fatal", "error": err.Error()})
		os.Exit(1)
	}
	self := ml.LocalNode()
	started["name"] = self.Name
	started["addr"] = self.Addr.String()
	started["port"] = self.Port
	started["registryPort"] = *registryPort
	out.print(started)

	if *join != "" {
		n, err := ml.Join(strings.Split(*join, ","))
		ev := map[string]interface{}{"event": "joinResult", "joined": n}
		if err != nil {
			ev["error"] = err.Error()
		}
		out.print(ev)
	}

	if *membersEvery > 0 {
		go func() {
			for range time.Tick(*membersEvery) {
				var list []map[string]interface{}
				for _, n := range ml.Members() {
					list = append(list, nodeEvent("member", n))
				}
				out.print(map[string]interface{}{"event": "members", "members": list})
			}
		}()
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	ev := map[string]interface{}{"event": "leaving"}
	start := time.Now()
	if err := ml.Leave(5 * time.Second); err != nil {
		ev["error"] = err.Error()
	}
	ev["ms"] = time.Since(start).Milliseconds()
	out.print(ev)
	ml.Shutdown()
	out.print(map[string]interface{}{"event": "shutdown"})
}
