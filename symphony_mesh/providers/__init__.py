"""Stage providers: the units of work a stage names (campaigns.md section 9).

`base` is the contract between the engine and a provider (`ProviderCall` in; `Completed`,
`Failed` or `Waiting` out). Each local provider is one module with an async `run(call)`: `mock`,
`counter`, `http`, `delay`, `script`, `list`, `wait`, `signal` and `approval`; `registry` maps
canonical type names to them. `params` and `selector` hold the value rules several share, and
`http_settings` the http provider's settings table. The remote provider belongs to federation.
"""
