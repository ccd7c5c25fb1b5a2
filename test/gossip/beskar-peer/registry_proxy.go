package main

// A real registry behind the stand-in: with -registry-upstream URL, every registry request that is not
// a -registry-blobs blob is proxied to URL (e.g. Debian's docker-registry), so a plugin's pushes through
// the mTLS registry port land in a real registry. X-Forwarded-Proto makes its Location headers https
// URLs of this port.

import (
	"flag"
	"net/http"
	"net/http/httputil"
	"net/url"
)

var registryUpstream = flag.String("registry-upstream", "", "with -registry: proxy other registry requests to this URL")

// proxyRegistry forwards a request to the upstream registry; false when there is none.
func proxyRegistry(w http.ResponseWriter, r *http.Request) bool {
	if *registryUpstream == "" {
		return false
	}
	target, err := url.Parse(*registryUpstream)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return true
	}
	r.Header.Set("X-Forwarded-Proto", "https")
	httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
	return true
}
