"""``python -m hearbench_example_plugin PATH [N_MELS DIM]``: write the DCT weights file."""

import sys

from hearbench_example_plugin import write_dct_weights

if __name__ == "__main__":
    if len(sys.argv) not in (2, 4):
        sys.exit("usage: python -m hearbench_example_plugin PATH [N_MELS DIM]")
    sizes = [int(v) for v in sys.argv[2:]]
    print(write_dct_weights(sys.argv[1], *sizes))
