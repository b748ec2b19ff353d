"""The lookup API: the Flask app, its fast path, errors, serving and the position watch."""
