package main

// Beskar's mTLS material, as pkg/mtls makes it: a P-384 ECDSA CA (CN beskar) shared as the JSON
// push/pull state, and P-256 leaf certificates (CN foobar) signed by it, used with TLS 1.3 and
// RequireAndVerifyClientCert on servers.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// caPEM is Beskar's mtls.CAPEM: Go marshals the []byte fields as base64 strings.
type caPEM struct {
	Cert []byte `json:"cert"`
	Key  []byte `json:"key"`
}

func beskarSubject(cn string) pkix.Name {
	return pkix.Name{
		CommonName:    cn,
		Organization:  []string{"CtrlIQ Inc"},
		Country:       []string{"United States"},
		Province:      []string{"CA"},
		Locality:      []string{""},
		StreetAddress: []string{""},
		PostalCode:    []string{""},
	}
}

func randomSerial() *big.Int {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		panic(err)
	}
	return serial
}

func encodePair(der []byte, key *ecdsa.PrivateKey) ([]byte, []byte) {
	keyDer, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDer})
}

// generateCA makes a CA as mtls.GenerateCA("beskar", now+10y, ECDSAKey).
func generateCA() *caPEM {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               beskarSubject("beskar"),
		IsCA:                  true,
		NotBefore:             time.Now(),
		NotAfter:              time.Now().AddDate(10, 0, 0),
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, keyPem := encodePair(der, key)
	return &caPEM{Cert: cert, Key: keyPem}
}

func (c *caPEM) marshal() []byte {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	return b
}

func (c *caPEM) pool() *x509.CertPool {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.Cert) {
		panic("cannot parse the CA certificate")
	}
	return pool
}

// issue makes a leaf certificate as mtls.GenerateKeyPair with the CA: P-256, CN foobar, SANs 127.0.0.1 +
// localhost + extras, client and server usage; Go sets AuthorityKeyId from the CA's SubjectKeyId.
func (c *caPEM) issue(ips []net.IP, dns []string) tls.Certificate {
	ca, err := tls.X509KeyPair(c.Cert, c.Key)
	if err != nil {
		panic(err)
	}
	caCert, err := x509.ParseCertificate(ca.Certificate[0])
	if err != nil {
		panic(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      beskarSubject("foobar"),
		IPAddresses:  append([]net.IP{net.ParseIP("127.0.0.1")}, ips...),
		DNSNames:     append([]string{"localhost"}, dns...),
		NotBefore:    time.Now(),
		NotAfter:     time.Now().AddDate(10, 0, 0),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, ca.PrivateKey)
	if err != nil {
		panic(err)
	}
	certPem, keyPem := encodePair(der, key)
	pair, err := tls.X509KeyPair(certPem, keyPem)
	if err != nil {
		panic(err)
	}
	pair.Leaf, _ = x509.ParseCertificate(der)
	return pair
}

// clientConfig is mtls.ClientConfig: the CA as root, a leaf as client certificate, TLS 1.3.
func (c *caPEM) clientConfig(leaf tls.Certificate) *tls.Config {
	return &tls.Config{RootCAs: c.pool(), Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS13}
}

// serverConfig is mtls.ServerConfig: client certificates required and verified against the CA, TLS 1.3.
func (c *caPEM) serverConfig(leaf tls.Certificate) *tls.Config {
	return &tls.Config{
		ClientCAs:    c.pool(),
		ClientAuth:   tls.RequireAndVerifyClientCert,
		Certificates: []tls.Certificate{leaf},
		MinVersion:   tls.VersionTLS13,
	}
}

// checkCert verifies a leaf (PEM) against a CA (PEM) for both usages, as crypto/x509 does when Beskar
// verifies a plugin's certificate, and reports what Beskar looks at.
func checkCert(caCertPem, caKeyPem, leafPem, leafKeyPem []byte, ip, dns string) map[string]interface{} {
	out := map[string]interface{}{}
	fail := func(what string, err error) map[string]interface{} {
		out["error"] = fmt.Sprintf("%s: %v", what, err)
		return out
	}
	if caKeyPem != nil {
		if _, err := tls.X509KeyPair(caCertPem, caKeyPem); err != nil {
			return fail("CA key pair", err)
		}
	}
	if _, err := tls.X509KeyPair(leafPem, leafKeyPem); err != nil {
		return fail("leaf key pair", err)
	}
	block, _ := pem.Decode(caCertPem)
	caCert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fail("CA certificate", err)
	}
	block, _ = pem.Decode(leafPem)
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fail("leaf certificate", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth} {
		opts := x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{usage}}
		if usage == x509.ExtKeyUsageServerAuth {
			opts.DNSName = dns
		}
		if _, err := leaf.Verify(opts); err != nil {
			return fail(fmt.Sprintf("verify (usage %d)", usage), err)
		}
	}
	if ip != "" {
		if err := leaf.VerifyHostname(ip); err != nil {
			return fail("verify IP", err)
		}
	}
	var ips []string
	for _, a := range leaf.IPAddresses {
		ips = append(ips, a.String())
	}
	out["ok"] = true
	out["caIsCA"] = caCert.IsCA
	out["caSKI"] = fmt.Sprintf("%x", caCert.SubjectKeyId)
	out["caCurve"] = caCert.PublicKey.(*ecdsa.PublicKey).Curve.Params().Name
	out["leafAKI"] = fmt.Sprintf("%x", leaf.AuthorityKeyId)
	out["leafCurve"] = leaf.PublicKey.(*ecdsa.PublicKey).Curve.Params().Name
	out["leafSignature"] = leaf.SignatureAlgorithm.String()
	out["leafCN"] = leaf.Subject.CommonName
	out["leafDNS"] = leaf.DNSNames
	out["leafIPs"] = ips
	out["leafYears"] = leaf.NotAfter.Year() - leaf.NotBefore.Year()
	return out
}
