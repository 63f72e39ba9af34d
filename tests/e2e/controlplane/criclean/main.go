// Command criclean stops and removes every pod sandbox and container of a CRI
// runtime (the e2e node's containerd), as `crictl rmp --all --force` would.
//
// The kubelet stops pods it is told to delete, but when the node is torn down
// its sandboxes would outlive it: their network namespaces stay mounted under
// /run/netns and their shims keep running. Removing them through the CRI, not
// by killing processes, lets containerd undo what it set up (the CNI network,
// the namespace mounts, the container mounts and cgroups).
//
// Usage:
//
//	criclean --endpoint unix:///path/to/containerd.sock [--timeout 60s]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	criclient "k8s.io/cri-client/pkg"
)

func main() {
	endpoint := flag.String("endpoint", "", "the CRI endpoint, e.g. unix:///run/containerd/containerd.sock (required)")
	timeout := flag.Duration("timeout", 60*time.Second, "give up after this long")
	flag.Parse()
	if *endpoint == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := clean(*endpoint, *timeout); err != nil {
		fmt.Fprintf(os.Stderr, "criclean: %v\n", err)
		os.Exit(1)
	}
}

func clean(endpoint string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	runtime, err := criclient.NewRemoteRuntimeService(ctx, endpoint, 10*time.Second, nil, false)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", endpoint, err)
	}
	containers, err := runtime.ListContainers(ctx, nil)
	if err != nil {
		return fmt.Errorf("listing containers: %w", err)
	}
	for _, container := range containers {
		if err := runtime.StopContainer(ctx, container.Id, 5); err != nil {
			return fmt.Errorf("stopping container %s: %w", container.Id, err)
		}
		if err := runtime.RemoveContainer(ctx, container.Id); err != nil {
			return fmt.Errorf("removing container %s: %w", container.Id, err)
		}
	}
	sandboxes, err := runtime.ListPodSandbox(ctx, nil)
	if err != nil {
		return fmt.Errorf("listing pod sandboxes: %w", err)
	}
	for _, sandbox := range sandboxes {
		if err := runtime.StopPodSandbox(ctx, sandbox.Id); err != nil {
			return fmt.Errorf("stopping pod sandbox %s: %w", sandbox.Id, err)
		}
		if err := runtime.RemovePodSandbox(ctx, sandbox.Id); err != nil {
			return fmt.Errorf("removing pod sandbox %s: %w", sandbox.Id, err)
		}
	}
	fmt.Printf("removed %d containers and %d pod sandboxes\n", len(containers), len(sandboxes))
	return nil
}
