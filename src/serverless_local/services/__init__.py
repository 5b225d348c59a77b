"""The local AWS services, a package (or a module) each; `registry.SERVICES` lists them."""
