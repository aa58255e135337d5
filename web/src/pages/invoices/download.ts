import { ApiError } from "../../api/client";

/** The file name the server chose (Content-Disposition), else the fallback. */
function fileName(response: Response, fallback: string): string {
  const match = /filename="?([^";]+)"?/i.exec(response.headers.get("Content-Disposition") ?? "");
  return match?.[1] ?? fallback;
}

type FileAnswer = Promise<{ data?: Blob; error?: unknown; response: Response }>;

async function blobOf(call: FileAnswer): Promise<{ blob: Blob; response: Response }> {
  const { data, error, response } = await call;
  if (!response.ok || !data) {
    const problem = error && typeof error === "object" && "code" in error ? (error as { code: string }) : null;
    throw new ApiError({ status: response.status, code: problem?.code ?? "error" });
  }
  return { blob: data, response };
}

/**
 * Saves a file answered by the API. Files need the bearer token, so a plain link cannot
 * fetch them: the typed client does, and the browser saves the blob.
 */
export async function saveFile(call: FileAnswer, fallback: string): Promise<string> {
  const { blob, response } = await blobOf(call);
  const name = fileName(response, fallback);
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => { URL.revokeObjectURL(url); }, 10_000);
  return name;
}

/** Opens an HTML document of the API (a printable view) in a new tab. */
export async function openPrintable(call: FileAnswer): Promise<void> {
  const { blob } = await blobOf(call);
  const url = URL.createObjectURL(new Blob([blob], { type: "text/html" }));
  window.open(url, "_blank", "noopener");
  setTimeout(() => { URL.revokeObjectURL(url); }, 60_000);
}

/** A file as base64 (the API's upload shape for proofs). */
export function base64Of(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => { resolve((typeof reader.result === "string" ? reader.result : "").replace(/^data:[^,]*,/, "")); };
    reader.onerror = () => { reject(reader.error ?? new Error("read")); };
    reader.readAsDataURL(file);
  });
}
