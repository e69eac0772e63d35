"""Start Rasa's server with the API token taken from the environment, not the command line.

`ps` shows every process's arguments to every user of the machine; the supervisor starts
`python -m scripts.rasa_server run ...` in the Rasa environment with RASA_AUTH_TOKEN set, and
this hands the token to Rasa's own command line parser inside the process. Standard library
only: it runs in .venv-rasa.
"""

from __future__ import annotations

import os
import sys

# TensorFlow's and the BLAS libraries' thread pools default to one thread per core each;
# one Rasa server answering one message at a time gains nothing from them on a small model
# and pays in memory. The supervisor sets these from the settings (RASA_TF_THREADS); by
# hand, one thread each unless the environment says otherwise.
THREAD_VARIABLES = ("TF_INTER_OP_PARALLELISM_THREADS", "TF_INTRA_OP_PARALLELISM_THREADS",
                    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def main() -> None:
    token = os.environ.pop("RASA_AUTH_TOKEN", "")
    if not token:
        sys.exit("RASA_AUTH_TOKEN is not set: the Rasa API must not run without a token")
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
    sys.argv = ["rasa", *sys.argv[1:], "--auth-token", token]
    # The REST channel (credentials.yml) asks callers for the same token.
    from scripts import rasa_channel, rasa_patches

    rasa_channel.TOKEN = token
    rasa_patches.apply()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
