#!/usr/bin/env python3
"""Call ServerlessServe with NVIDIA Triton's Python HTTP client, unchanged (docs/protocol.md, "Example: a Triton client").

usage: triton_client.py [URL]
URL is host:port/path of the V2 API without a scheme (default 127.0.0.1:7071/api, what `ssctl up` serves). The caller
token is read from $SERVERLESSSERVE_TOKEN (`export SERVERLESSSERVE_TOKEN=$(ssctl token)`). Needs tritonclient[http]
(pip), or its source on PYTHONPATH with Debian's python3-numpy, python3-gevent, python3-geventhttpclient and
python3-rapidjson.
"""
import os
import sys

import numpy as np
import tritonclient.http as httpclient

url = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:7071/api"
token = os.environ["SERVERLESSSERVE_TOKEN"]


def auth():
    # A fresh dict per call: infer() adds Inference-Header-Content-Length to the dict it is given.
    return {"Authorization": f"Bearer {token}"}


client = httpclient.InferenceServerClient(url=url)
print("live:", client.is_server_live())  # the health routes need no token
print("metadata:", client.get_model_metadata("credit-risk", headers=auth()))

features = np.array([[0.35, 0.4, 1, 9], [0.7, 0.85, 5, 3]], dtype=np.float32)
inputs = [httpclient.InferInput("features", list(features.shape), "FP32")]
inputs[0].set_data_from_numpy(features, binary_data=True)

# No `outputs`: the client sets binary_data_output, so both released tensors come back binary.
result = client.infer("credit-risk", inputs, headers=auth())
print("probabilities:", result.as_numpy("probabilities").tolist())  # FP32 [2, 2], top-2 scores rounded to 3 digits
print("classes:", [[c.decode() for c in row] for row in result.as_numpy("probabilities_classes")])  # BYTES [2, 2]
client.close()
