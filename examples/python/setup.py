"""Only what pyproject.toml cannot say: a wheel that bundles libbilling.so (`make wheel`
copies it to billing/_lib/) is a platform wheel (py3-none-<platform>), not a pure one.
The library has a C ABI, so one wheel serves every Python 3."""

import os

from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel

BUNDLED = os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                      "billing", "_lib", "libbilling.so.0"))


class PlatformWheel(bdist_wheel):
    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = not BUNDLED

    def get_tag(self):
        python, abi, platform = super().get_tag()
        return ("py3", "none", platform) if BUNDLED else (python, abi, platform)


setup(cmdclass={"bdist_wheel": PlatformWheel})
