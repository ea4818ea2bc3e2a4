"""The production tier: the functions with the environment ``template.yaml`` gives them
(the ``production`` marker is declared in pyproject.toml)."""
