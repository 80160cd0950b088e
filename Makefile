# The README's two commands: `make run` and `make test`, on a fresh Debian/Ubuntu machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
XVFB := xvfb-run -a -s "-screen 0 1280x1024x24"

.PHONY: run test system demo bench clean

system:
	@PYTHON=$(PYTHON) bash packaging/ensure_system.sh

$(BIN)/deepscope: pyproject.toml | system
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

demo: system $(BIN)/deepscope
	$(BIN)/deepscope demo

run: demo
	@if [ -n "$$DISPLAY" ]; then \
		$(BIN)/deepscope; \
	else \
		echo "No display here: rendering the demo session to deepscope-demo.png through Xvfb instead."; \
		$(XVFB) $(BIN)/deepscope screenshot --out deepscope-demo.png && echo "wrote deepscope-demo.png"; \
	fi

test: demo
	$(XVFB) $(BIN)/python -m pytest -q

bench: demo
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
