"""Pure rules of the registry: statuses, numbering, declarations. No Flask, no SQL, no I/O."""
