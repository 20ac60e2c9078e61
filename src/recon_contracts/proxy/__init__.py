"""``recon-contracts proxy``: a validation reverse proxy that judges a client's own traffic, flow by flow.

    client -> app (routing) -> upstream (bounded httpx streaming) -> the named upstream
                 |  urlmap: Location, navigation links, PC links, blob URLs kept on the proxy
                 |  flows: POST -> 202 -> polls -> manifest -> blobs; page 1 -> N by continuation token
                 |  judge: the offline checker's rules (checks.recorded) per flow; blobs teed into the row engine
                 '-> sink: console line and findings.jsonl per finding; finish: the reports and the verdict
"""
