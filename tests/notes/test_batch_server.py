"""The loopback server's offline-embedding emulation keeps the rules the client must respect."""

from __future__ import annotations

import io
import json

import httpx2
import openai
import pytest

from tests.support.dashscope_server import TEST_KEY, DashScopeServer

AUTH = {"Authorization": f"Bearer {TEST_KEY}"}


def jsonl(*bodies: dict[str, object]) -> bytes:
    return b"\n".join(json.dumps({"custom_id": f"c{i}", "method": "POST", "url": "/v1/embeddings",
                                  "body": body}).encode() for i, body in enumerate(bodies))


async def test_batch_files_are_validated_and_batches_step_through_their_statuses(srv: DashScopeServer) -> None:
    srv.batch_max_lines = 2
    body = {"model": "text-embedding-v4", "input": ["a", "b"], "dimensions": 64}
    async with openai.AsyncOpenAI(base_url=srv.base_url, api_key=TEST_KEY, max_retries=0) as sdk:
        with pytest.raises(openai.BadRequestError, match="at most 2"):
            await sdk.files.create(file=("in.jsonl", io.BytesIO(jsonl(body, body, body))), purpose="batch")
        with pytest.raises(openai.BadRequestError, match="purpose"):
            await sdk.files.create(file=("in.jsonl", io.BytesIO(jsonl(body))), purpose="fine-tune")
        uploaded = await sdk.files.create(file=("in.jsonl", io.BytesIO(jsonl(body, body))), purpose="batch")
        with pytest.raises(openai.BadRequestError, match="completion_window"):
            await sdk.batches.create(input_file_id=uploaded.id, endpoint="/v1/embeddings",
                                     completion_window="1h")  # type: ignore[arg-type]
        batch = await sdk.batches.create(input_file_id=uploaded.id, endpoint="/v1/embeddings",
                                         completion_window="24h")
        statuses = [batch.status] + [(await sdk.batches.retrieve(batch.id)).status for _ in range(4)]
        assert statuses == ["validating", "in_progress", "finalizing", "completed", "completed"]
        done = await sdk.batches.retrieve(batch.id)
        assert done.request_counts is not None and done.request_counts.completed == 2
        assert done.error_file_id is None and done.output_file_id
        output = (await sdk.files.content(done.output_file_id)).content.splitlines()
        first = json.loads(output[0])
        assert first["custom_id"] == "c0" and first["response"]["status_code"] == 200
        assert len(first["response"]["body"]["data"][0]["embedding"]) == 64
        with pytest.raises(openai.BadRequestError, match="Cannot cancel"):
            await sdk.batches.cancel(batch.id)


async def test_native_task_rules(srv: DashScopeServer) -> None:
    native = srv.root_url + "/api/v1"
    async with httpx2.AsyncClient() as http:
        policy = (await http.get(f"{native}/uploads", params={"action": "getPolicy",
                                                              "model": "text-embedding-async-v2"},
                                 headers=AUTH)).json()["data"]
        key = policy["upload_dir"] + "/in.txt"
        forged = await http.post(policy["upload_host"], data={
            "OSSAccessKeyId": "x", "Signature": "forged", "policy": "p", "key": key}, files={"file": b"a\n"})
        assert forged.status_code == 403
        good = await http.post(policy["upload_host"], data={
            "OSSAccessKeyId": policy["oss_access_key_id"], "Signature": policy["signature"],
            "policy": policy["policy"], "key": key, "success_action_status": "200"},
            files={"file": ("in.txt", b"alpha\nbeta\n")})
        assert good.status_code == 200 and srv.oss_objects[key] == b"alpha\nbeta\n"

        task_url = f"{native}/services/embeddings/text-embedding/text-embedding"
        body = {"model": "text-embedding-async-v2", "input": {"url": f"oss://{key}"}}
        sync = await http.post(task_url, json=body, headers=AUTH)
        assert sync.status_code == 403 and "synchronous" in sync.json()["message"]
        unresolved = await http.post(task_url, json=body, headers={**AUTH, "X-DashScope-Async": "enable"})
        assert unresolved.status_code == 400 and "OssResourceResolve" in unresolved.json()["message"]
        created = await http.post(task_url, json=body, headers={
            **AUTH, "X-DashScope-Async": "enable", "X-DashScope-OssResourceResolve": "enable"})
        assert created.json()["output"]["task_status"] == "PENDING"
        unknown = await http.get(f"{native}/tasks/no-such-task", headers=AUTH)
        assert unknown.json()["output"]["task_status"] == "UNKNOWN"
        denied = await http.get(f"{native}/tasks/no-such-task", headers={"Authorization": "Bearer sk-wrong"})
        assert denied.status_code == 401 and denied.json()["code"] == "InvalidApiKey"
