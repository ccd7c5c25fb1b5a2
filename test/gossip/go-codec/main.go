// go-codec answers the TypeScript plugin SDK tests with Go's own encodings: encoding/gob for
// BeskarMeta, compress/lzw (LSB, litWidth 8) as memberlist compresses, and hashicorp/go-msgpack with
// memberlist's MsgpackHandle for memberlist's message structs (declared here with memberlist's field
// names, types and tags).
//
// Usage: go-codec <mode> < lines; one answer line per input line.
//
//	gob-encode       {"InstanceType":2,...} JSON        -> hex
//	gob-decode       hex                                -> BeskarMeta JSON, or {"error": "..."}
//	lzw-compress     hex                                -> hex
//	lzw-decompress   hex                                -> hex, or {"error": "..."}
//	msgpack-encode   <struct> <JSON of the struct>      -> hex
//	msgpack-decode   <struct> <hex>                     -> JSON of the struct, or {"error": "..."}
package main

import (
	"bufio"
	"bytes"
	"compress/lzw"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/ioutil"
	"os"
	"strings"

	"github.com/hashicorp/go-msgpack/codec"
)

type BeskarMeta struct {
	InstanceType uint8
	Ready        bool
	ServicePort  uint16
	RegistryPort uint16
	Hostname     string
}

type ping struct {
	SeqNo      uint32
	Node       string
	SourceAddr []byte `codec:",omitempty"`
	SourcePort uint16 `codec:",omitempty"`
	SourceNode string `codec:",omitempty"`
}

type indirectPingReq struct {
	SeqNo      uint32
	Target     []byte
	Port       uint16
	Node       string
	Nack       bool
	SourceAddr []byte `codec:",omitempty"`
	SourcePort uint16 `codec:",omitempty"`
	SourceNode string `codec:",omitempty"`
}

type ackResp struct {
	SeqNo   uint32
	Payload []byte
}

type nackResp struct{ SeqNo uint32 }

type errResp struct{ Error string }

type suspect struct {
	Incarnation uint32
	Node        string
	From        string
}

type alive struct {
	Incarnation uint32
	Node        string
	Addr        []byte
	Port        uint16
	Meta        []byte
	Vsn         []uint8
}

type dead struct {
	Incarnation uint32
	Node        string
	From        string
}

type pushPullHeader struct {
	Nodes        int
	UserStateLen int
	Join         bool
}

type pushNodeState struct {
	Name        string
	Addr        []byte
	Port        uint16
	Meta        []byte
	Incarnation uint32
	State       int
	Vsn         []uint8
}

type compress struct {
	Algo uint8
	Buf  []byte
}

func newStruct(name string) interface{} {
	switch name {
	case "ping":
		return &ping{}
	case "indirectPingReq":
		return &indirectPingReq{}
	case "ackResp":
		return &ackResp{}
	case "nackResp":
		return &nackResp{}
	case "errResp":
		return &errResp{}
	case "suspect":
		return &suspect{}
	case "alive":
		return &alive{}
	case "dead":
		return &dead{}
	case "pushPullHeader":
		return &pushPullHeader{}
	case "pushNodeState":
		return &pushNodeState{}
	case "compress":
		return &compress{}
	}
	return nil
}

func answer(mode, line string) (string, error) {
	switch mode {
	case "gob-encode":
		var m BeskarMeta
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			return "", err
		}
		var b bytes.Buffer
		if err := gob.NewEncoder(&b).Encode(&m); err != nil {
			return "", err
		}
		return hex.EncodeToString(b.Bytes()), nil
	case "gob-decode":
		raw, err := hex.DecodeString(line)
		if err != nil {
			return "", err
		}
		var m BeskarMeta
		if err := gob.NewDecoder(bytes.NewReader(raw)).Decode(&m); err != nil {
			return "", err
		}
		out, err := json.Marshal(m)
		return string(out), err
	case "lzw-compress":
		raw, err := hex.DecodeString(line)
		if err != nil {
			return "", err
		}
		var b bytes.Buffer
		w := lzw.NewWriter(&b, lzw.LSB, 8)
		w.Write(raw)
		w.Close()
		return hex.EncodeToString(b.Bytes()), nil
	case "lzw-decompress":
		raw, err := hex.DecodeString(line)
		if err != nil {
			return "", err
		}
		r := lzw.NewReader(bytes.NewReader(raw), lzw.LSB, 8)
		defer r.Close()
		out, err := ioutil.ReadAll(r)
		if err != nil {
			return "", err
		}
		return hex.EncodeToString(out), nil
	case "msgpack-encode", "msgpack-decode":
		parts := strings.SplitN(line, " ", 2)
		if len(parts) != 2 {
			return "", fmt.Errorf("want '<struct> <data>'")
		}
		v := newStruct(parts[0])
		if v == nil {
			return "", fmt.Errorf("unknown struct %q", parts[0])
		}
		hd := codec.MsgpackHandle{}
		if mode == "msgpack-encode" {
			if err := json.Unmarshal([]byte(parts[1]), v); err != nil {
				return "", err
			}
			var b bytes.Buffer
			if err := codec.NewEncoder(&b, &hd).Encode(v); err != nil {
				return "", err
			}
			return hex.EncodeToString(b.Bytes()), nil
		}
		raw, err := hex.DecodeString(parts[1])
		if err != nil {
			return "", err
		}
		if err := codec.NewDecoder(bytes.NewReader(raw), &hd).Decode(v); err != nil {
			return "", err
		}
		out, err := json.Marshal(v)
		return string(out), err
	}
	return "", fmt.Errorf("unknown mode %q", mode)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go-codec <mode> < lines")
		os.Exit(2)
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		res, err := answer(os.Args[1], in.Text())
		if err != nil {
			e, _ := json.Marshal(map[string]string{"error": err.Error()})
			res = string(e)
		}
		fmt.Fprintln(out, res)
	}
}
