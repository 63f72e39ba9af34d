"""The admission webhooks' HTTPS server, independent of kopf: its own thread, loop, TLS and AdmissionReviews."""
