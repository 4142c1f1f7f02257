"""A small web app (and worker) in the shapes the test stacks need. What it talks to comes from
the environment, as twelve-factor apps do: DATABASE_URL (mysql:// or postgres://), REDIS_URL,
AMQP_URL, UPLOAD_DIR. `python3 app.py worker` consumes the `jobs` queue into the database."""
import json, os, sys, time, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

DB = os.environ.get("DATABASE_URL", "")
REDIS = os.environ.get("REDIS_URL", "")
AMQP = os.environ.get("AMQP_URL", "")
UPLOADS = os.environ.get("UPLOAD_DIR", "")


def db():
    u = urlparse(DB)
    if u.scheme.startswith("mysql"):
        import pymysql
        return pymysql.connect(host=u.hostname, port=u.port or 3306, user=u.username, password=u.password, database=u.path[1:], autocommit=True)
    import psycopg2
    c = psycopg2.connect(host=u.hostname, port=u.port or 5432, user=u.username, password=u.password, dbname=u.path[1:])
    c.autocommit = True
    return c


def query(sql, args=()):
    c = db()
    try:
        cur = c.cursor()
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else []
    finally:
        c.close()


def ensure_schema():
    if not DB:
        return
    auto = "INT AUTO_INCREMENT PRIMARY KEY" if DB.startswith("mysql") else "SERIAL PRIMARY KEY"
    query(f"CREATE TABLE IF NOT EXISTS notes (id {auto}, text VARCHAR(200) NOT NULL)")


def redis_client():
    import redis
    return redis.Redis.from_url(REDIS)


class Handler(BaseHTTPRequestHandler):
    def send(self, status, body, headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/octet-stream" if isinstance(body, bytes) else "application/json")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass

    def do_GET(self):
        u = urlparse(self.path)
        try:
            if u.path == "/health":
                checks = {}
                if DB:
                    query("SELECT 1")
                    checks["database"] = "ok"
                if REDIS:
                    redis_client().ping()
                    checks["redis"] = "ok"
                if UPLOADS:
                    checks["uploads"] = "ok" if os.access(UPLOADS, os.W_OK) else "not writable"
                return self.send(200, {"status": "ok", **checks})
            if u.path == "/notes":
                return self.send(200, [{"id": r[0], "text": r[1]} for r in query("SELECT id, text FROM notes ORDER BY id")])
            if u.path == "/visit":
                r = redis_client()
                sid = (self.headers.get("cookie") or "").replace("sid=", "") or uuid.uuid4().hex
                n = r.hincrby(f"session:{sid}", "visits", 1)
                return self.send(200, {"session": sid, "visits": n, "sessions": len(r.keys("session:*"))}, {"set-cookie": f"sid={sid}"})
            if u.path.startswith("/uploads/"):
                name = os.path.basename(u.path)
                path = os.path.join(UPLOADS, name)
                if not os.path.isfile(path):
                    return self.send(404, {"error": f"no upload {name}"})
                with open(path, "rb") as f:
                    return self.send(200, f.read())
            if u.path == "/uploads":
                return self.send(200, sorted(os.listdir(UPLOADS)))
            return self.send(200, {"app": "stackport test app", "database": bool(DB), "redis": bool(REDIS), "uploads": bool(UPLOADS)})
        except Exception as e:  # the smoke checks read the reason
            return self.send(503, {"status": "error", "error": str(e)})

    def do_POST(self):
        u = urlparse(self.path)
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            if u.path == "/notes":
                text = parse_qs(u.query).get("text", [body.decode() or "note"])[0]
                query("INSERT INTO notes (text) VALUES (%s)", (text,))
                return self.send(201, {"text": text})
            if u.path.startswith("/uploads/"):
                name = os.path.basename(u.path)
                with open(os.path.join(UPLOADS, name), "wb") as f:
                    f.write(body)
                return self.send(201, {"name": name, "bytes": len(body)})
            return self.send(404, {"error": "not found"})
        except Exception as e:
            return self.send(503, {"status": "error", "error": str(e)})


def worker():
    import pika
    ensure_schema()
    while True:
        try:
            conn = pika.BlockingConnection(pika.URLParameters(AMQP))
            ch = conn.channel()
            ch.queue_declare(queue="jobs", durable=True)

            def take(ch, method, props, body):
                query("INSERT INTO notes (text) VALUES (%s)", (f"job {body.decode()}",))
                ch.basic_ack(delivery_tag=method.delivery_tag)

            ch.basic_consume(queue="jobs", on_message_callback=take)
            print("worker: consuming jobs", flush=True)
            ch.start_consuming()
        except Exception as e:
            print(f"worker: {e}; reconnecting", flush=True)
            time.sleep(2)


def publish(texts):
    import pika
    conn = pika.BlockingConnection(pika.URLParameters(AMQP))
    ch = conn.channel()
    ch.queue_declare(queue="jobs", durable=True)
    for t in texts:
        ch.basic_publish(exchange="", routing_key="jobs", body=t.encode(), properties=pika.BasicProperties(delivery_mode=2))
    conn.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker()
    elif sys.argv[1:2] == ["publish"]:
        publish(sys.argv[2:])
    else:
        for i in range(60):
            try:
                ensure_schema()
                break
            except Exception as e:
                print(f"waiting for the database: {e}", flush=True)
                time.sleep(1)
        if UPLOADS:
            os.makedirs(UPLOADS, exist_ok=True)
        print("listening on :8000", flush=True)
        ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
