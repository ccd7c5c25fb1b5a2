package main

// Blobs for the registry stand-in: with -registry-blobs DIR, `GET|HEAD /v2/<name>/blobs/sha256:<hex>`
// answers the file DIR/<hex> (as Beskar's registry serves a layer to a plugin), 404 with an OCI error
// body when there is none. Tests put the files there before posting the event.

import (
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
)

var registryBlobs = flag.String("registry-blobs", "", "with -registry: serve GET /v2/<name>/blobs/sha256:<hex> from DIR/<hex>")

var blobPath = regexp.MustCompile(`^/v2/(.+)/blobs/sha256:([0-9a-f]{64})$`)

// serveRegistryBlob answers a blob request; false when the request is not one (or blobs are off).
func serveRegistryBlob(w http.ResponseWriter, r *http.Request) bool {
	if *registryBlobs == "" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	m := blobPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return false
	}
	f, err := os.Open(filepath.Join(*registryBlobs, m[2]))
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}`))
		return true
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return true
	}
	w.Header().Set("Docker-Content-Digest", "sha256:"+m[2])
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", info.ModTime(), f)
	return true
}
