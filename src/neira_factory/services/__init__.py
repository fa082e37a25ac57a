"""Use cases the API, CLI and UI all call: fabricate, transition, run, capabilities, audit, introspection."""
