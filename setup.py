# Only what pyproject.toml cannot say: setuptools rejects cffi_modules there.
from setuptools import setup

setup(cffi_modules=["engine/_build.py:ffibuilder"])
