#!/usr/bin/env python3
"""Drives the gateway with NVIDIA Triton's Python HTTP client (tritonclient.http), a V2 client this project did not
write, and prints what the client saw as one JSON object for TritonClientTests to assert on.

Usage: triton_checks.py URL TOKEN SCENARIO WORKDIR
  URL       host:port/path of the V2 API, no scheme (what InferenceServerClient takes), e.g. 127.0.0.1:7071/api
  TOKEN     a caller's bearer token
  SCENARIO  server | infer | errors
  WORKDIR   a folder for tensors exchanged with the test (image.f32 in, resnet18.f32 out)
"""

import json
import os
import sys

import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

CREDIT_ROWS = np.array([[0.35, 0.4, 1, 9], [0.7, 0.85, 5, 3]], dtype=np.float32)


def auth(token):
    # A fresh dict per call: infer() adds Inference-Header-Content-Length to the dict it is given.
    return {"Authorization": f"Bearer {token}"}


def text(value):
    # The client gives BYTES elements as bytes from the binary extension and as str from JSON.
    return value.decode("utf-8") if isinstance(value, bytes) else value


def refusal(call):
    """The status and message of the InferenceServerException the call raises, or None when it succeeds."""
    try:
        call()
    except InferenceServerException as e:
        return {"status": e.status(), "message": e.message()}
    return None


def credit_input(rows, binary):
    tensor = httpclient.InferInput("features", list(rows.shape), "FP32")
    tensor.set_data_from_numpy(rows, binary_data=binary)
    return tensor


def credit_result(result):
    response = result.get_response()
    return {
        "model_name": response.get("model_name"),
        "model_version": response.get("model_version"),
        "id": response.get("id"),
        "output_names": sorted(o["name"] for o in response["outputs"]),
        "binary_outputs": sorted(o["name"] for o in response["outputs"] if "binary_data_size" in o.get("parameters", {})),
        "probabilities": result.as_numpy("probabilities").tolist(),
        "probabilities_dtype": str(result.as_numpy("probabilities").dtype),
        "classes": [[text(c) for c in row] for row in result.as_numpy("probabilities_classes")],
    }


def server(client, token, work):
    return {
        "live": client.is_server_live(),
        "ready": client.is_server_ready(),
        "server_metadata": client.get_server_metadata(),
        "model_ready": client.is_model_ready("credit-risk", headers=auth(token)),
        "model_ready_without_token": client.is_model_ready("credit-risk"),
        "unknown_model_ready": client.is_model_ready("no-such-model", headers=auth(token)),
        "model_metadata": client.get_model_metadata("credit-risk", headers=auth(token)),
        "model_metadata_without_token": refusal(lambda: client.get_model_metadata("credit-risk")),
        "unknown_model_metadata": refusal(lambda: client.get_model_metadata("no-such-model", headers=auth(token))),
        "repository_index": refusal(lambda: client.get_model_repository_index(headers=auth(token))),
    }


def infer(client, token, work):
    results = {}
    # Every combination of JSON and binary for the input and the outputs; None asks for no outputs, which makes the
    # client set binary_data_output.
    for binary_input in (False, True):
        for binary_outputs in (False, True, None):
            outputs = None
            if binary_outputs is not None:
                outputs = [
                    httpclient.InferRequestedOutput("probabilities", binary_data=binary_outputs),
                    httpclient.InferRequestedOutput("probabilities_classes", binary_data=binary_outputs),
                ]
            key = f"input {'binary' if binary_input else 'json'}, outputs {'default' if binary_outputs is None else ('binary' if binary_outputs else 'json')}"
            result = client.infer(
                "credit-risk",
                [credit_input(CREDIT_ROWS, binary_input)],
                outputs=outputs,
                request_id=f"triton-{len(results)}",
                headers=auth(token),
            )
            results[key] = credit_result(result)

    # Only the output asked for.
    only = client.infer(
        "credit-risk",
        [credit_input(CREDIT_ROWS, True)],
        outputs=[httpclient.InferRequestedOutput("probabilities", binary_data=True)],
        headers=auth(token),
    )
    results["only probabilities"] = sorted(o["name"] for o in only.get_response()["outputs"])

    # BYTES out, redacted: customer-notes.
    notes = {}
    for binary in (False, True):
        customer = httpclient.InferInput("customer_id", [1], "INT64")
        customer.set_data_from_numpy(np.array([7], dtype=np.int64), binary_data=binary)
        result = client.infer(
            "customer-notes",
            [customer],
            outputs=[httpclient.InferRequestedOutput("note", binary_data=binary)],
            headers=auth(token),
        )
        notes["binary" if binary else "json"] = [text(n) for n in result.as_numpy("note").reshape(-1)]
    results["customer-notes"] = notes

    # A 602,112-byte image in the binary extension: resnet18, whose features go back to the test to compare.
    metadata = client.get_model_metadata("resnet18", headers=auth(token))
    image_input = metadata["inputs"][0]
    image = np.fromfile(os.path.join(work, "image.f32"), dtype=np.float32).reshape(1, 3, 224, 224)
    tensor = httpclient.InferInput(image_input["name"], list(image.shape), image_input["datatype"])
    tensor.set_data_from_numpy(image, binary_data=True)
    result = client.infer("resnet18", [tensor], headers=auth(token))
    feature_name = metadata["outputs"][0]["name"]
    features = result.as_numpy(feature_name)
    features.astype(np.float32).tofile(os.path.join(work, "resnet18.f32"))
    results["resnet18"] = {"input": image_input["name"], "output": feature_name, "shape": list(features.shape)}
    return results


def concurrent(url, token):
    """16 requests with distinct rows through one client with 8 connections (async_infer, gevent greenlets): each
    answer must be its own request's, as sent alone."""
    client = httpclient.InferenceServerClient(url=url, concurrency=8)
    try:
        rows = [np.array([[0.05 * i, 0.4, 1 + (i % 5), 9 - (i % 7)]], dtype=np.float32) for i in range(16)]
        alone = [
            client.infer("credit-risk", [credit_input(r, True)], headers=auth(token)).as_numpy("probabilities").tolist()
            for r in rows
        ]
        pending = [client.async_infer("credit-risk", [credit_input(r, True)], request_id=f"c{i}", headers=auth(token)) for i, r in enumerate(rows)]
        together = [p.get_result(timeout=60) for p in pending]
        return {
            "requests": len(rows),
            "distinct_answers": len({json.dumps(a) for a in alone}),
            "mismatches": [i for i, r in enumerate(together) if r.as_numpy("probabilities").tolist() != alone[i]],
            "ids": [r.get_response().get("id") for r in together],
        }
    finally:
        client.close()


def errors(client, token, work):
    def credit(inputs, outputs=None, headers=None, model="credit-risk"):
        return lambda: client.infer(model, inputs, outputs=outputs, headers=headers if headers is not None else auth(token))

    wrong_type = httpclient.InferInput("features", [1, 4], "FP64")
    wrong_type.set_data_from_numpy(np.array([[0.35, 0.4, 1, 9]], dtype=np.float64), binary_data=True)
    wrong_shape = httpclient.InferInput("features", [1, 3], "FP32")
    wrong_shape.set_data_from_numpy(np.array([[0.35, 0.4, 1]], dtype=np.float32), binary_data=True)
    wrong_name = httpclient.InferInput("feature", [1, 4], "FP32")
    wrong_name.set_data_from_numpy(CREDIT_ROWS[:1], binary_data=False)
    return {
        "unknown model": refusal(credit([credit_input(CREDIT_ROWS, True)], model="no-such-model")),
        "no token": refusal(credit([credit_input(CREDIT_ROWS, True)], headers={})),
        "bad token": refusal(credit([credit_input(CREDIT_ROWS, True)], headers={"Authorization": "Bearer not-a-token"})),
        "class_count": refusal(credit([credit_input(CREDIT_ROWS, True)], outputs=[httpclient.InferRequestedOutput("probabilities", class_count=2)])),
        "unknown output": refusal(credit([credit_input(CREDIT_ROWS, True)], outputs=[httpclient.InferRequestedOutput("logits")])),
        "wrong datatype": refusal(credit([wrong_type])),
        "wrong shape": refusal(credit([wrong_shape])),
        "unknown input": refusal(credit([wrong_name])),
        "priority": refusal(lambda: client.infer("credit-risk", [credit_input(CREDIT_ROWS, True)], priority=1, headers=auth(token))),
        # Still served after all of the above: no refusal spoils the client's connection or the caller's standing.
        "after": client.infer("credit-risk", [credit_input(CREDIT_ROWS, True)], headers=auth(token)).as_numpy("probabilities").tolist(),
    }


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    url, token, scenario, work = sys.argv[1:]
    client = httpclient.InferenceServerClient(url=url, connection_timeout=60.0, network_timeout=60.0)
    try:
        if scenario == "server":
            result = server(client, token, work)
        elif scenario == "infer":
            result = infer(client, token, work)
            result["concurrent"] = concurrent(url, token)
        elif scenario == "errors":
            result = errors(client, token, work)
        else:
            print(f"unknown scenario {scenario}", file=sys.stderr)
            return 2
    finally:
        client.close()
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
