"""The admission webhooks' HTTPS server, independent of kopf: its own process, loop, TLS and AdmissionReviews."""
