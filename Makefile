# Maintainer shortcuts; each is a tasks.py command (which needs only Python 3.12+).
.PHONY: test serve lock bench reliability

test: ## the whole test suite
	python3 tasks.py test

serve: ## bake the default project and serve it
	python3 tasks.py serve

lock: ## regenerate every variant's poetry.lock
	python3 tasks.py lock

bench: ## benchmarks: a markdown table, JSON in .bench/
	python3 tasks.py bench

reliability: ## reliability checks: a markdown table, JSON in .bench/
	python3 tasks.py reliability
