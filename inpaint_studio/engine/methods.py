"""Imports every module that registers engine methods. Each helper module keeps torch imports lazy
(inside load()/inpaint()), so listing methods never imports torch."""

from inpaint_studio.engine import classical  # noqa: F401
