"""A client nobody here wrote: the DataStax Python driver (optionally with AWS's
cassandra-sigv4 plugin) connects to an endpoint and runs the statements asked for.
Settings come from a JSON object on stdin (secrets never on argv); one JSON line
with the outcome goes to stdout."""
import json
import ssl
import sys
import traceback


def main():
    cfg = json.load(sys.stdin)
    from cassandra.cluster import Cluster, ExecutionProfile, EXEC_PROFILE_DEFAULT
    from cassandra.policies import WhiteListRoundRobinPolicy
    from cassandra import ConsistencyLevel
    from cassandra.query import SimpleStatement

    ssl_context = None
    ssl_options = None
    if cfg.get("tls", True):
        ssl_context = ssl.create_default_context(cafile=cfg["ca_file"])
        ssl_context.check_hostname = True
        ssl_context.verify_mode = ssl.CERT_REQUIRED
        ssl_options = {"server_hostname": cfg["host"]}

    if cfg["auth"] == "sigv4":
        from cassandra_sigv4.auth import SigV4AuthProvider
        import boto3
        session = boto3.Session(
            aws_access_key_id=cfg["access_key_id"],
            aws_secret_access_key=cfg["secret_access_key"],
            aws_session_token=cfg.get("session_token"),
            region_name=cfg["region"],
        )
        auth = SigV4AuthProvider(session)
    else:
        from cassandra.auth import PlainTextAuthProvider
        auth = PlainTextAuthProvider(username=cfg["username"], password=cfg["password"])

    kwargs = dict(
        contact_points=[cfg["address"]],
        port=cfg["port"],
        auth_provider=auth,
        connect_timeout=cfg.get("connect_timeout", 5),
        control_connection_timeout=cfg.get("connect_timeout", 5),
    )
    if ssl_context is not None:
        kwargs["ssl_context"] = ssl_context
        kwargs["ssl_options"] = ssl_options
    if cfg.get("only_contact_point"):
        profile = ExecutionProfile(load_balancing_policy=WhiteListRoundRobinPolicy([cfg["address"]]))
        kwargs["execution_profiles"] = {EXEC_PROFILE_DEFAULT: profile}
    out = {"connected": False, "results": []}
    cluster = Cluster(**kwargs)
    try:
        session = cluster.connect()
        out["connected"] = True
        out["hosts"] = len(cluster.metadata.all_hosts())
        out["protocol_version"] = cluster.protocol_version
        for q in cfg.get("queries", []):
            cl = getattr(ConsistencyLevel, q.get("consistency", "LOCAL_QUORUM"))
            try:
                rows = list(session.execute(SimpleStatement(q["cql"], consistency_level=cl)))
                out["results"].append({"ok": True, "rows": len(rows), "first": [str(v) for v in rows[0]] if rows else None})
            except Exception as e:  # the server's answer is the result
                out["results"].append({"ok": False, "error": type(e).__name__, "message": str(e)})
    except Exception as e:
        out["error"] = type(e).__name__
        out["message"] = str(e)
        out["trace"] = traceback.format_exc()[-2000:]
    finally:
        cluster.shutdown()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
