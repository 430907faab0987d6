# The lit configuration shared by every folder's test/ directory. Each one
# has a lit.site.cfg.py.in that CMake fills in with paths and that loads this.
import os

import lit.formats

config.name = "trueno-" + os.path.basename(os.path.dirname(config.test_source_root))
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir"]
config.excludes = ["CMakeLists.txt", "README.md", "lit.site.cfg.py.in"]
config.environment["PATH"] = os.pathsep.join(
    [config.trueno_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")])
