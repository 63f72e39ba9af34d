// Command controlplane runs a real, minimal Kubernetes control plane in one
// process for end-to-end tests: an embedded etcd, the upstream kube-apiserver
// and the upstream kube-controller-manager, all built from the published
// k8s.io/kubernetes Go modules (no downloaded kube-apiserver binary needed).
//
// Alone it has no scheduler, kubelet or node: Pods are created by the
// controllers (Deployment -> ReplicaSet -> Pod) but stay Pending. With
// --node-name it also writes the credentials of a node (DIR/kubelet.kubeconfig,
// DIR/scheduler.kubeconfig) so that a kube-scheduler and a kubelet, started
// beside it (tests/e2e/node), make a real single-node cluster. Everything else
// the operator tests rely on is real: RBAC, admission (including the webhook
// admission plugins), CRDs, garbage collection, service-account tokens.
//
// The apiserver always runs with --enable-aggregator-routing: it calls webhooks
// and aggregated APIs at their endpoints' addresses, never at a Service's
// ClusterIP (there is no kube-proxy to route one).
//
// Usage:
//
//	controlplane --workdir DIR [--apiserver-port N] [--bind-address IP] [--advertise-address IP]
//	             [--node-name NAME] [--v N]
//	             [--apiserver-arg=--flag=value ...] [--controller-manager-arg=--flag=value ...]
//
// It writes certificates to DIR/pki, etcd data to DIR/etcd (both recreated on
// every start) and an admin kubeconfig to DIR/kubeconfig, then prints a single
// JSON line on stdout once the cluster is usable:
//
//	{"ready":true,"server":"https://127.0.0.1:PORT","kubeconfig":"DIR/kubeconfig",...}
//
// Logs go to stderr. SIGTERM/SIGINT stop the controller manager, the apiserver
// and etcd, in that order; a second signal exits immediately.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

// serviceCIDR is the cluster's Service IP range; its first address is the
// ClusterIP of the "kubernetes" Service and therefore a SAN of the serving cert.
const (
	serviceCIDR = "10.96.0.0/12"
	serviceIP   = "10.96.0.1"
)

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

type config struct {
	workdir         string
	apiserverPort   int
	bindAddress     string
	advertise       string
	nodeName        string
	etcdPort        int
	verbosity       int
	readyTimeout    time.Duration
	exitWithParent  bool
	apiserverArgs   stringList
	controllerArgs  stringList
	shutdownTimeout time.Duration
}

func main() {
	var cfg config
	flag.StringVar(&cfg.workdir, "workdir", "", "directory for certificates, etcd data and kubeconfig (required)")
	flag.IntVar(&cfg.apiserverPort, "apiserver-port", 0, "apiserver port on 127.0.0.1 (0: pick a free one)")
	flag.StringVar(&cfg.bindAddress, "bind-address", "127.0.0.1", "address the apiserver listens on (0.0.0.0: every address)")
	flag.StringVar(&cfg.advertise, "advertise-address", "127.0.0.1", "address the apiserver advertises (the kubernetes Service's endpoint unless loopback)")
	flag.StringVar(&cfg.nodeName, "node-name", "", "also write the credentials of a node of this name (kubelet and scheduler kubeconfigs)")
	flag.IntVar(&cfg.etcdPort, "etcd-port", 0, "etcd client port on 127.0.0.1 (0: pick a free one)")
	flag.IntVar(&cfg.verbosity, "v", 0, "klog verbosity of the apiserver and controller manager")
	flag.DurationVar(&cfg.readyTimeout, "ready-timeout", 2*time.Minute, "give up if not ready within this time")
	flag.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 30*time.Second, "exit forcefully if a clean shutdown takes longer")
	flag.BoolVar(&cfg.exitWithParent, "exit-with-parent", false, "shut down when the parent process exits (guards against leaked clusters)")
	flag.Var(&cfg.apiserverArgs, "apiserver-arg", "extra kube-apiserver flag, e.g. --apiserver-arg=--v=4 (repeatable; later flags win)")
	flag.Var(&cfg.controllerArgs, "controller-manager-arg", "extra kube-controller-manager flag (repeatable)")
	flag.Parse()
	if cfg.workdir == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		klog.Flush()
		fmt.Fprintf(os.Stderr, "controlplane: %v\n", err)
		os.Exit(1)
	}
}

func run(cfg config) error {
	start := time.Now()
	workdir, err := filepath.Abs(cfg.workdir)
	if err != nil {
		return err
	}
	// Always start from a clean cluster: stale etcd data would not match the
	// freshly generated CA and service-account keys.
	pkiDir, etcdDir := filepath.Join(workdir, "pki"), filepath.Join(workdir, "etcd")
	for _, d := range []string{pkiDir, etcdDir} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
	}
	// flexvolume/ is only there so the controller manager's volume plugin
	// prober stays inside workdir (see --flex-volume-plugin-dir below).
	if err := os.MkdirAll(filepath.Join(workdir, "flexvolume"), 0o755); err != nil {
		return err
	}

	// Signals (and, optionally, the death of our parent) stop everything.
	stopCtx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if cfg.exitWithParent {
		stopCtx = watchParent(stopCtx)
	}

	advertise := net.ParseIP(cfg.advertise)
	if advertise == nil {
		return fmt.Errorf("--advertise-address %q is not an IP address", cfg.advertise)
	}
	certs, err := newPKI(pkiDir, net.ParseIP(serviceIP), []net.IP{advertise}, cfg.nodeName)
	if err != nil {
		return fmt.Errorf("generating certificates: %w", err)
	}

	etcd, etcdURL, err := startEtcdOnFreePorts(etcdDir, cfg.etcdPort)
	if err != nil {
		return err
	}
	defer func() {
		etcd.Close()
		klog.Info("etcd stopped")
	}()

	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.bindAddress, fmt.Sprint(cfg.apiserverPort)))
	if err != nil {
		return fmt.Errorf("apiserver listener: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	// Clients of this host (the kubeconfigs written here) use loopback.
	server := fmt.Sprintf("https://127.0.0.1:%d", port)

	kubeconfig := filepath.Join(workdir, "kubeconfig")
	kcmKubeconfig := filepath.Join(workdir, "controller-manager.kubeconfig")
	if err := writeKubeconfig(kubeconfig, server, "kubernetes-admin", certs.caPEM, certs.adminPEM, certs.adminKPEM); err != nil {
		return err
	}
	if err := writeKubeconfig(kcmKubeconfig, server, "system:kube-controller-manager", certs.caPEM, certs.kcmPEM, certs.kcmKPEM); err != nil {
		return err
	}
	nodeFiles := map[string]any{}
	if cfg.nodeName != "" {
		kubeletKubeconfig := filepath.Join(workdir, "kubelet.kubeconfig")
		schedulerKubeconfig := filepath.Join(workdir, "scheduler.kubeconfig")
		if err := writeKubeconfig(kubeletKubeconfig, server, "system:node:"+cfg.nodeName, certs.caPEM, certs.nodePEM, certs.nodeKPEM); err != nil {
			return err
		}
		if err := writeKubeconfig(schedulerKubeconfig, server, "system:kube-scheduler", certs.caPEM, certs.schedulerPEM, certs.schedulerKPEM); err != nil {
			return err
		}
		nodeFiles = map[string]any{
			"kubelet_kubeconfig":   kubeletKubeconfig,
			"scheduler_kubeconfig": schedulerKubeconfig,
			"ca_file":              certs.caCert,
		}
	}
	// The "kubernetes" Service's endpoints cannot be a loopback address
	// (validation rejects it): with a loopback advertise address they are not
	// reconciled at all (nothing in-cluster runs without a node anyway).
	endpointReconciler := "lease"
	if advertise.IsLoopback() {
		endpointReconciler = "none"
	}

	// The components own their contexts so they can be stopped in order.
	apiCtx, cancelAPI := context.WithCancel(context.Background())
	defer cancelAPI()
	apiArgs := append([]string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=" + cfg.bindAddress,
		"--advertise-address=" + cfg.advertise,
		"--endpoint-reconciler-type=" + endpointReconciler,
		// Webhooks are called at their endpoints' addresses, never at a
		// ClusterIP: no kube-proxy routes one, and no test may dial one.
		"--enable-aggregator-routing=true",
		"--service-cluster-ip-range=" + serviceCIDR,
		"--client-ca-file=" + certs.caCert,
		"--tls-cert-file=" + certs.apiserverCert,
		"--tls-private-key-file=" + certs.apiKey,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + certs.saPub,
		"--service-account-signing-key-file=" + certs.saKey,
		"--authorization-mode=Node,RBAC",
		// Default admission plugins (incl. Mutating/ValidatingAdmissionWebhook)
		// stay on; NodeRestriction is added as kubeadm does.
		"--enable-admission-plugins=NodeRestriction",
		"--allow-privileged=true",
		"--cert-dir=" + pkiDir,
		"--profiling=false",
		fmt.Sprintf("--v=%d", cfg.verbosity),
	}, cfg.apiserverArgs...)
	if cfg.nodeName != "" {
		apiArgs = append([]string{
			"--kubelet-client-certificate=" + certs.kubeletClientCert,
			"--kubelet-client-key=" + certs.kubeletKey,
			"--kubelet-preferred-address-types=InternalIP",
		}, apiArgs...)
	}
	klog.InfoS("starting kube-apiserver", "server", server)
	apiErr, err := runAPIServer(apiCtx, ln, apiArgs)
	if err != nil {
		return fmt.Errorf("kube-apiserver: %w", err)
	}

	restCfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return err
	}
	readyCtx, cancelReady := context.WithTimeout(stopCtx, cfg.readyTimeout)
	defer cancelReady()
	if err := waitReadyz(readyCtx, client, apiErr); err != nil {
		return fmt.Errorf("waiting for apiserver /readyz: %w", err)
	}
	apiReady := time.Since(start)

	kcmCtx, cancelKCM := context.WithCancel(context.Background())
	defer cancelKCM()
	kcmArgs := append([]string{
		"--kubeconfig=" + kcmKubeconfig,
		"--leader-elect=false",
		// No serving endpoint needed (and one less port): health is observed
		// through the API instead.
		"--secure-port=0",
		// As kubeadm: every controller uses its own service account, so RBAC
		// for controllers is exercised like in a real cluster. This costs ~5 s
		// of startup (a token per controller); pass
		// --controller-manager-arg=--use-service-account-credentials=false
		// to trade that realism for speed.
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + certs.saKey,
		"--root-ca-file=" + certs.caCert,
		"--cluster-signing-cert-file=" + certs.caCert,
		"--cluster-signing-key-file=" + certs.caKey,
		"--cluster-name=e2e",
		// The volume plugin prober would otherwise create
		// /usr/libexec/kubernetes/kubelet-plugins/volume/exec on the host.
		"--flex-volume-plugin-dir=" + filepath.Join(workdir, "flexvolume"),
		"--controllers=*,bootstrapsigner,tokencleaner",
		fmt.Sprintf("--v=%d", cfg.verbosity),
	}, cfg.controllerArgs...)
	klog.InfoS("starting kube-controller-manager")
	kcmErr, err := runControllerManager(kcmCtx, kcmArgs)
	if err != nil {
		return fmt.Errorf("kube-controller-manager: %w", err)
	}

	// The "default" ServiceAccount is created by the serviceaccount controller:
	// once it exists the controller manager is running and Pods can be created
	// in the default namespace (the ServiceAccount admission plugin needs it).
	if err := waitDefaultServiceAccount(readyCtx, client, apiErr, kcmErr); err != nil {
		return fmt.Errorf("waiting for the controller manager (default ServiceAccount): %w", err)
	}

	ready := map[string]any{
		"ready":              true,
		"server":             server,
		"kubeconfig":         kubeconfig,
		"workdir":            workdir,
		"etcd":               etcdURL,
		"pid":                os.Getpid(),
		"apiserver_ready_s":  round(apiReady),
		"cluster_ready_s":    round(time.Since(start)),
		"kubernetes_version": gitVersion(client),
	}
	for key, value := range nodeFiles {
		ready[key] = value
	}
	line, _ := json.Marshal(ready)
	fmt.Println(string(line))
	_ = os.Stdout.Sync()

	// Run until a signal or until a component dies.
	var runErr error
	select {
	case <-stopCtx.Done():
		klog.Info("shutting down")
	case err := <-apiErr:
		runErr = fmt.Errorf("kube-apiserver exited: %v", err)
		apiErr = nil
	case err := <-kcmErr:
		runErr = fmt.Errorf("kube-controller-manager exited: %v", err)
		kcmErr = nil
	}
	stop() // restore default signal handling: a second Ctrl-C kills us at once

	// Hard deadline in case some component hangs on shutdown.
	timer := time.AfterFunc(cfg.shutdownTimeout, func() {
		fmt.Fprintln(os.Stderr, "controlplane: shutdown timed out, exiting")
		os.Exit(1)
	})
	defer timer.Stop()

	cancelKCM()
	if kcmErr != nil {
		if err := <-kcmErr; err != nil && !errors.Is(err, context.Canceled) {
			klog.ErrorS(err, "kube-controller-manager shutdown")
		}
	}
	klog.Info("kube-controller-manager stopped")
	cancelAPI()
	if apiErr != nil {
		if err := <-apiErr; err != nil {
			klog.ErrorS(err, "kube-apiserver shutdown")
		}
	}
	klog.Info("kube-apiserver stopped")
	return runErr
}

// startEtcdOnFreePorts starts etcd; when no client port was requested it picks
// free ports and retries a couple of times in case one got taken meanwhile.
func startEtcdOnFreePorts(dataDir string, clientPort int) (e *embed.Etcd, clientURL string, err error) {
	for attempt := 0; attempt < 3; attempt++ {
		cp := clientPort
		if cp == 0 {
			if cp, err = freePort(); err != nil {
				return nil, "", err
			}
		}
		pp, err := freePort()
		if err != nil {
			return nil, "", err
		}
		etcd, url, err := startEtcd(dataDir, cp, pp)
		if err == nil {
			return etcd, url, nil
		}
		if clientPort != 0 || !strings.Contains(err.Error(), "address already in use") {
			return nil, "", fmt.Errorf("starting etcd: %w", err)
		}
		_ = os.RemoveAll(dataDir)
	}
	return nil, "", fmt.Errorf("starting etcd: no free ports after 3 attempts")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReadyz polls /readyz until it returns "ok" or the apiserver fails.
func waitReadyz(ctx context.Context, client kubernetes.Interface, apiErr <-chan error) error {
	return wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		select {
		case err := <-apiErr:
			return false, fmt.Errorf("kube-apiserver exited: %v", err)
		default:
		}
		body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(body) == "ok", nil
	})
}

func waitDefaultServiceAccount(ctx context.Context, client kubernetes.Interface, apiErr, kcmErr <-chan error) error {
	return wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		select {
		case err := <-apiErr:
			return false, fmt.Errorf("kube-apiserver exited: %v", err)
		case err := <-kcmErr:
			return false, fmt.Errorf("kube-controller-manager exited: %v", err)
		default:
		}
		_, err := client.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, nil
	})
}

// watchParent returns a context that is cancelled when the parent process
// exits (we get re-parented). Unlike PR_SET_PDEATHSIG this is not tied to the
// parent *thread* that spawned us.
func watchParent(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	ppid := os.Getppid()
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if os.Getppid() != ppid {
					klog.Info("parent process exited")
					cancel()
					return
				}
			}
		}
	}()
	return ctx
}

func gitVersion(client kubernetes.Interface) string {
	v, err := client.Discovery().ServerVersion()
	if err != nil {
		return ""
	}
	return v.GitVersion
}

func round(d time.Duration) float64 {
	return float64(d.Round(10*time.Millisecond)) / float64(time.Second)
}
