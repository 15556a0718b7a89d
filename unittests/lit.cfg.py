# -*- Python -*-
# Runs every gtest binary under build/unittests as lit tests (one per case).
import os

import lit.formats

config.name = "BAQ-Unit"
config.suffixes = []
config.test_exec_root = os.path.join(config.baq_obj_root, "unittests")
config.test_source_root = config.test_exec_root
config.test_format = lit.formats.GoogleTest(".", "Tests")
