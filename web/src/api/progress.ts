/**
 * A `fetch` for openapi-fetch's per-call `fetch` option that reports upload progress.
 *
 * fetch() cannot report how much of a request body has been sent; XMLHttpRequest can. The
 * typed client still builds the request (path, body, headers, middleware); only the sending
 * goes through XHR, so attachments show a real progress bar.
 */
export type Progress = (sent: number, total: number) => void;

export function fetchWithProgress(onProgress: Progress): (request: Request) => Promise<Response> {
  return async (request: Request) => {
    const body = request.method === "GET" || request.method === "HEAD" ? null : await request.blob();
    return new Promise<Response>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(request.method, request.url);
      request.headers.forEach((value, name) => {
        xhr.setRequestHeader(name, value);
      });
      xhr.responseType = "blob";
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) onProgress(event.loaded, event.total);
      };
      xhr.onload = () => {
        const headers = new Headers();
        for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
          const at = line.indexOf(":");
          if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
        }
        // Responses without a body (204) may not carry one.
        const content = [204, 205, 304].includes(xhr.status) ? null : (xhr.response as Blob);
        resolve(new Response(content, { status: xhr.status, statusText: xhr.statusText, headers }));
      };
      // Same failure shape as fetch: a TypeError, which the client turns into a NetworkError.
      xhr.onerror = () => { reject(new TypeError("network")); };
      xhr.onabort = () => { reject(new DOMException("aborted", "AbortError")); };
      xhr.send(body);
    });
  };
}
