"""backends: one interface, several simulators (evsim\x27s own event engine, Brian2)."""
