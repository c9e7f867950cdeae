"""clb-unbind: take an instance out of its load balancers, cleanly and provably, before it goes away."""
