// The HTTP API client: one fetch wrapper, so every screen reads answers and
// errors the same way. Errors have one shape ({"error": {"code", "message", ...}});
// 429 carries Retry-After (and the same number in retry_after_s); API Gateway's
// own 401 is {"message": "Unauthorized"}.

export class ApiError extends Error {
  constructor(status, body, retryAfterHeader) {
    const error = (body && body.error) || {};
    super(error.message || (body && body.message) || `HTTP ${status}`);
    this.status = status; // 0: the request never got an answer
    this.code = error.code || (status === 401 ? "unauthenticated" : status === 0 ? "network" : "");
    this.fields = error.fields || null;
    const header = Number.parseInt(retryAfterHeader || "", 10);
    this.retryAfterS = Number.isFinite(error.retry_after_s)
      ? error.retry_after_s
      : Number.isFinite(header)
        ? header
        : null;
  }
}

const state = {
  base: "",
  getToken: async () => null,
  onUnauthorized: () => {},
};

/** apiBase: "" for the same origin (make up), or the stack's ApiUrl (CORS). */
export function configureApi({ apiBase = "", getToken, onUnauthorized }) {
  state.base = String(apiBase || "").replace(/\/+$/, "");
  if (getToken) state.getToken = getToken;
  if (onUnauthorized) state.onUnauthorized = onUnauthorized;
}

function withQuery(path, query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== null && value !== undefined && value !== "") params.set(name, value);
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export async function request(method, path, { query, body } = {}) {
  const headers = { Accept: "application/json" };
  const token = await state.getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(state.base + withQuery(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, null, null);
  }
  let data = null;
  const text = await response.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data, response.headers.get("Retry-After"));
    if (response.status === 401) state.onUnauthorized(error);
    throw error;
  }
  return data;
}

const id = (value) => encodeURIComponent(value);

export const api = {
  createUpload: (body) => request("POST", "/uploads", { body }),
  upload: (uploadId) => request("GET", `/uploads/${id(uploadId)}`),
  me: () => request("GET", "/me"),
  eraseMe: () => request("DELETE", "/me"),
  meetings: (query) => request("GET", "/meetings", { query }),
  meeting: (meetingId) => request("GET", `/meetings/${id(meetingId)}`),
  resend: (meetingId) => request("POST", `/meetings/${id(meetingId)}/resend`),
  eraseMeeting: (meetingId) => request("DELETE", `/meetings/${id(meetingId)}`),
  clients: () => request("GET", "/clients"),
};
