import os
import sys

# Tests import the reference transcription as ``tests.reference_poolformer``.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
