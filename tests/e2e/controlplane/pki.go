package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// pki holds the paths of every certificate and key the control plane uses.
// All keys are ECDSA P-256: generating them is instantaneous, unlike RSA.
type pki struct {
	dir string

	caCert, caKey              string // cluster CA: signs every cert below, trusted as client CA
	apiserverCert, apiKey      string // apiserver serving cert for 127.0.0.1 / localhost
	saKey, saPub               string // service-account token signing key pair
	adminCert, adminKey        string // kubernetes-admin, group system:masters
	kcmCert, kcmKey            string // system:kube-controller-manager (bound by bootstrap RBAC)
	caPEM, adminPEM, adminKPEM []byte
	kcmPEM, kcmKPEM            []byte

	// Only with a node: the scheduler's and the kubelet's identities, and the
	// apiserver's client certificate for the kubelet's API (logs, exec).
	schedulerPEM, schedulerKPEM   []byte // system:kube-scheduler (bound by bootstrap RBAC)
	nodePEM, nodeKPEM             []byte // system:node:<name> in system:nodes (Node authorizer)
	kubeletClientCert, kubeletKey string // kube-apiserver-kubelet-client, group system:masters
}

// certSpec describes one leaf certificate signed by the cluster CA.
type certSpec struct {
	cn     string
	orgs   []string
	usage  x509.ExtKeyUsage
	ips    []net.IP
	dns    []string
	prefix string // file name prefix inside the pki dir
}

const certValidity = 365 * 24 * time.Hour

// newPKI creates a fresh CA and all leaf certificates in dir.
// serviceIP is the first IP of the service CIDR: in-cluster clients reach the
// apiserver through the "kubernetes" Service on it, so it must be a SAN, as
// must extraIPs (the advertised address). With a nodeName, the certificates of
// a node (kubelet, scheduler, the apiserver's kubelet client) are made too.
func newPKI(dir string, serviceIP net.IP, extraIPs []net.IP, nodeName string) (*pki, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := &pki{dir: dir}

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "e2e-kubernetes-ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(certValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	if p.caCert, p.caKey, p.caPEM, _, err = writePair(dir, "ca", caDER, caKey); err != nil {
		return nil, err
	}

	leaf := func(s certSpec) (certFile, keyFile string, certPEM, keyPEM []byte, err error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return "", "", nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: serial(),
			Subject:      pkix.Name{CommonName: s.cn, Organization: s.orgs},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(certValidity),
			KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage:  []x509.ExtKeyUsage{s.usage},
			IPAddresses:  s.ips,
			DNSNames:     s.dns,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
		if err != nil {
			return "", "", nil, nil, err
		}
		return writePair(dir, s.prefix, der, key)
	}

	if p.apiserverCert, p.apiKey, _, _, err = leaf(certSpec{
		cn:    "kube-apiserver",
		usage: x509.ExtKeyUsageServerAuth,
		ips:   append([]net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback, serviceIP}, extraIPs...),
		dns: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local"},
		prefix: "apiserver",
	}); err != nil {
		return nil, err
	}
	if p.adminCert, p.adminKey, p.adminPEM, p.adminKPEM, err = leaf(certSpec{
		cn: "kubernetes-admin", orgs: []string{"system:masters"},
		usage: x509.ExtKeyUsageClientAuth, prefix: "admin",
	}); err != nil {
		return nil, err
	}
	if p.kcmCert, p.kcmKey, p.kcmPEM, p.kcmKPEM, err = leaf(certSpec{
		cn:    "system:kube-controller-manager",
		usage: x509.ExtKeyUsageClientAuth, prefix: "controller-manager",
	}); err != nil {
		return nil, err
	}

	if nodeName != "" {
		if _, _, p.schedulerPEM, p.schedulerKPEM, err = leaf(certSpec{
			cn:    "system:kube-scheduler",
			usage: x509.ExtKeyUsageClientAuth, prefix: "scheduler",
		}); err != nil {
			return nil, err
		}
		if _, _, p.nodePEM, p.nodeKPEM, err = leaf(certSpec{
			cn: "system:node:" + nodeName, orgs: []string{"system:nodes"},
			usage: x509.ExtKeyUsageClientAuth, prefix: "kubelet",
		}); err != nil {
			return nil, err
		}
		if p.kubeletClientCert, p.kubeletKey, _, _, err = leaf(certSpec{
			cn: "kube-apiserver-kubelet-client", orgs: []string{"system:masters"},
			usage: x509.ExtKeyUsageClientAuth, prefix: "apiserver-kubelet-client",
		}); err != nil {
			return nil, err
		}
	}

	// Service-account signing key: the apiserver signs TokenRequest tokens with
	// the private key and verifies them with the public one; the controller
	// manager's token controller also needs the private key.
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	saKeyDER, err := x509.MarshalECPrivateKey(saKey)
	if err != nil {
		return nil, err
	}
	saPubDER, err := x509.MarshalPKIXPublicKey(saKey.Public())
	if err != nil {
		return nil, err
	}
	p.saKey = filepath.Join(dir, "sa.key")
	p.saPub = filepath.Join(dir, "sa.pub")
	if err := os.WriteFile(p.saKey, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: saKeyDER}), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.saPub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: saPubDER}), 0o644); err != nil {
		return nil, err
	}
	return p, nil
}

// writePair writes <prefix>.crt and <prefix>.key and returns paths and PEM bytes.
func writePair(dir, prefix string, der []byte, key crypto.Signer) (string, string, []byte, []byte, error) {
	ecKey, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return "", "", nil, nil, fmt.Errorf("unexpected key type %T", key)
	}
	keyDER, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		return "", "", nil, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	certFile := filepath.Join(dir, prefix+".crt")
	keyFile := filepath.Join(dir, prefix+".key")
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		return "", "", nil, nil, err
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return "", "", nil, nil, err
	}
	return certFile, keyFile, certPEM, keyPEM, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		panic(err)
	}
	return n.Add(n, big.NewInt(1))
}

// writeKubeconfig writes a self-contained kubeconfig (all credentials inlined)
// so it keeps working if the pki dir is moved or inspected by other tools.
func writeKubeconfig(path, server, user string, caPEM, certPEM, keyPEM []byte) error {
	const name = "e2e"
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: user, Namespace: "default"}
	cfg.CurrentContext = name
	return clientcmd.WriteToFile(*cfg, path)
}
