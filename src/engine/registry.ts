import https from 'node:https';

/**
 * Does Docker Hub answer? Any HTTP status (Hub answers /v2/ with 401) means yes; a DNS
 * failure, refused connection, TLS failure or timeout means no. Cheap: on a machine without
 * network the DNS lookup fails in milliseconds.
 */
export function registryAnswers(url = 'https://registry-1.docker.io/v2/', timeoutMs = 4000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
  });
}
