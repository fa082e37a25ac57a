"""HTTP entrypoint: the FastAPI app factory, its routers, auth and error handling."""
