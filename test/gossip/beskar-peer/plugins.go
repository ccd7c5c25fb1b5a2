package main

// Beskar's side of the plugin contract (internal/pkg/beskar/plugin.go, registry.go): on a NodeJoin or
// NodeUpdate of a plugin whose meta says Ready, fetch `GET https://<addr>:<ServicePort>/info` with a client
// certificate from the CA (retried up to 5 s, 500 ms apart at most) and register it; forget it on NodeLeave.
// A control API lets the tests make Beskar post events or send arbitrary requests to a plugin, and a
// registry stand-in (mTLS, server name hex(md5(hostname))) records the requests plugins make to Beskar.

import (
	"bytes"
	"crypto/md5"
	"crypto/tls"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"path"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

type pluginManager struct {
	out *printer
	ca  *caPEM
	// client is Beskar's plugin client: a leaf from the CA, 5 s timeout.
	client     *http.Client
	clientLeaf tls.Certificate

	mu    sync.Mutex
	nodes map[string]string // plugin node name -> host:ServicePort
}

func newPluginManager(out *printer, ca *caPEM) *pluginManager {
	leaf := ca.issue(nil, nil)
	transport := &http.Transport{
		TLSClientConfig:     ca.clientConfig(leaf),
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     10 * time.Second,
	}
	return &pluginManager{
		out:        out,
		ca:         ca,
		client:     &http.Client{Transport: transport, Timeout: 5 * time.Second},
		clientLeaf: leaf,
		nodes:      map[string]string{},
	}
}

func decodeMeta(n *memberlist.Node) (*BeskarMeta, bool) {
	var meta BeskarMeta
	if err := gob.NewDecoder(bytes.NewReader(n.Meta)).Decode(&meta); err != nil {
		return nil, false
	}
	return &meta, true
}

// onNode is called for every join/update/leave (after it was printed).
func (pm *pluginManager) onNode(kind string, n *memberlist.Node) {
	meta, ok := decodeMeta(n)
	if !ok || meta.InstanceType != 2 {
		return
	}
	hostport := net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(meta.ServicePort)))
	pm.mu.Lock()
	if kind == "leave" {
		delete(pm.nodes, n.Name)
	} else {
		pm.nodes[n.Name] = hostport
	}
	pm.mu.Unlock()
	switch kind {
	case "join", "update":
		if meta.Ready {
			go pm.register(n.Name, hostport)
		}
	case "leave":
		pm.out.print(map[string]interface{}{"event": "pluginUnregistered", "name": n.Name, "hostport": hostport})
	}
}

func (pm *pluginManager) register(name, hostport string) {
	var info *pluginInfo
	var err error
	deadline := time.Now().Add(5 * time.Second)
	wait := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		info, err = pm.getInfo(hostport)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(wait)
		if wait *= 2; wait > 500*time.Millisecond {
			wait = 500 * time.Millisecond
		}
	}
	if err != nil {
		pm.out.print(map[string]interface{}{"event": "pluginRegisterError", "name": name, "hostport": hostport, "error": err.Error()})
		return
	}
	pm.out.print(map[string]interface{}{"event": "pluginRegistered", "name": name, "hostport": hostport, "info": info})
}

func (pm *pluginManager) getInfo(hostport string) (*pluginInfo, error) {
	req, err := http.NewRequest(http.MethodGet, "https://"+hostport+"/info", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := pm.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("plugin backend has returned an unknown status %d", resp.StatusCode)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return decodeInfo(data)
}

// route picks the plugin node Beskar would send a request for `repository` to: a rendezvous (highest
// random weight) hash over the plugin nodes present, as Beskar's rv.NodeHash. Each repository keeps its
// node while that node stays; when it leaves, only its repositories move, each to the next-highest node.
func (pm *pluginManager) route(repository string) (string, error) {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	best, bestScore := "", uint64(0)
	for node := range pm.nodes {
		h := fnv.New64a()
		_, _ = h.Write([]byte(node))
		_, _ = h.Write([]byte{0})
		_, _ = h.Write([]byte(repository))
		if score := h.Sum64(); best == "" || score > bestScore {
			best, bestScore = node, score
		}
	}
	if best == "" {
		return "", fmt.Errorf("no plugin node for %q", repository)
	}
	return best, nil
}

func (pm *pluginManager) hostport(node string) (string, error) {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	hp, ok := pm.nodes[node]
	if !ok {
		return "", fmt.Errorf("unknown plugin node %q", node)
	}
	return hp, nil
}

// controlRequest is a request the test asks Beskar to send to a plugin.
type controlRequest struct {
	Node   string `json:"node"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Body   []byte `json:"body"`
	// Client: "beskar" (a CA-signed client certificate), "none" (no client certificate), "foreign" (a
	// certificate from another CA).
	Client string `json:"client"`
	// Scheme: "https" or "http".
	Scheme string `json:"scheme"`
	// ContentType of the body (default application/octet-stream, as Beskar's /info and /event requests).
	ContentType string `json:"contentType"`
	// Route: with no Node, the request goes where Beskar's router sends it: the node `route` picks for
	// this repository. The reply names the node.
	Route string `json:"route"`
}

func (pm *pluginManager) send(cr *controlRequest) map[string]interface{} {
	node := cr.Node
	if node == "" {
		var err error
		if node, err = pm.route(cr.Route); err != nil {
			return map[string]interface{}{"error": err.Error()}
		}
	}
	hostport, err := pm.hostport(node)
	if err != nil {
		return map[string]interface{}{"error": err.Error()}
	}
	client := pm.client
	switch cr.Client {
	case "", "beskar":
	case "none":
		client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pm.ca.pool(), MinVersion: tls.VersionTLS13},
		}}
	case "foreign":
		other := generateCA()
		client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{
				RootCAs:      pm.ca.pool(),
				Certificates: []tls.Certificate{other.issue(nil, nil)},
				MinVersion:   tls.VersionTLS13,
			},
		}}
	default:
		return map[string]interface{}{"error": "unknown client " + cr.Client}
	}
	scheme := cr.Scheme
	if scheme == "" {
		scheme = "https"
	}
	method := cr.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, scheme+"://"+hostport+cr.Path, bytes.NewReader(cr.Body))
	if err != nil {
		return map[string]interface{}{"error": err.Error()}
	}
	contentType := cr.ContentType
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := client.Do(req)
	if err != nil {
		return map[string]interface{}{"error": err.Error()}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return map[string]interface{}{"status": resp.StatusCode, "body": body, "node": node}
}

// serveControl answers the tests: POST /event (JSON eventRequest → protobuf POST /event to the plugin, as
// Beskar's sendEvent), POST /request (controlRequest).
func (pm *pluginManager) serveControl(ln net.Listener) {
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, v map[string]interface{}) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("/event", func(w http.ResponseWriter, r *http.Request) {
		var er eventRequest
		if err := json.NewDecoder(r.Body).Decode(&er); err != nil {
			reply(w, map[string]interface{}{"error": err.Error()})
			return
		}
		body, err := encodeEvent(&er)
		if err != nil {
			reply(w, map[string]interface{}{"error": err.Error()})
			return
		}
		// Beskar sends an event to the node of the repository the manifest's repository is in.
		reply(w, pm.send(&controlRequest{
			Node: er.Node, Route: path.Dir(er.Repository), Method: http.MethodPost, Path: "/event", Body: body,
		}))
	})
	mux.HandleFunc("/request", func(w http.ResponseWriter, r *http.Request) {
		var cr controlRequest
		if err := json.NewDecoder(r.Body).Decode(&cr); err != nil {
			reply(w, map[string]interface{}{"error": err.Error()})
			return
		}
		reply(w, pm.send(&cr))
	})
	_ = http.Serve(ln, mux)
}

// serveRegistry plays Beskar's registry port for plugin requests: TLS 1.3, client certificate required,
// server name hex(md5(hostname)); a request is the plugin's when its client certificate's AuthorityKeyId
// equals that of Beskar's own client leaf.
func (pm *pluginManager) serveRegistry(ln net.Listener, hostname string) {
	sum := md5.Sum([]byte(hostname))
	hashed := hex.EncodeToString(sum[:])
	server := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ev := map[string]interface{}{"event": "registryRequest", "method": r.Method, "path": r.URL.Path}
			if r.TLS != nil {
				ev["serverName"] = r.TLS.ServerName
				ev["tlsVersion"] = r.TLS.Version
				if len(r.TLS.PeerCertificates) > 0 {
					peer := r.TLS.PeerCertificates[0]
					ev["plugin"] = bytes.Equal(pm.clientLeaf.Leaf.AuthorityKeyId, peer.AuthorityKeyId)
					ev["peerAKI"] = fmt.Sprintf("%x", peer.AuthorityKeyId)
				}
			}
			pm.out.print(ev)
			if serveRegistryBlob(w, r) || proxyRegistry(w, r) {
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte("{}"))
		}),
		TLSConfig: pm.ca.serverConfig(pm.ca.issue(nil, []string{hostname, hashed})),
		ErrorLog:  nil,
	}
	_ = server.ServeTLS(ln, "", "")
}
