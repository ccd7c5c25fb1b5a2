package main

import (
	"encoding/json"
	"os"
)

// runTool runs a subcommand (`ca`, `check-cert`); false when name is not one.
func runTool(name string) bool {
	switch name {
	case "ca":
		os.Stdout.Write(append(generateCA().marshal(), '\n'))
	case "check-cert":
		var in struct {
			CACert  string `json:"caCert"`
			CAKey   string `json:"caKey"`
			Leaf    string `json:"leaf"`
			LeafKey string `json:"leafKey"`
			IP      string `json:"ip"`
			DNS     string `json:"dns"`
		}
		if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
			panic(err)
		}
		var caKey []byte
		if in.CAKey != "" {
			caKey = []byte(in.CAKey)
		}
		out, _ := json.Marshal(checkCert([]byte(in.CACert), caKey, []byte(in.Leaf), []byte(in.LeafKey), in.IP, in.DNS))
		os.Stdout.Write(append(out, '\n'))
	default:
		return false
	}
	return true
}
