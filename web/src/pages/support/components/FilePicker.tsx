import { ActionIcon, FileButton, Group, Progress, Stack, Text } from "@mantine/core";
import { IconPaperclip, IconX } from "@tabler/icons-react";
import { Button } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { FILE_TYPES, MAX_FILES, MAX_FILE_BYTES } from "../api";
import { base64Of } from "../../invoices/download";
import type { FileBody } from "../api";

const ACCEPTED = new Set(FILE_TYPES.split(","));

/** The files chosen so far, checked as the API will check them (count, size, type). */
export function checkFiles(t: (key: string, options?: Record<string, unknown>) => string, files: File[]): string | null {
  if (files.length > MAX_FILES) return t("tooManyFiles", { count: MAX_FILES });
  for (const file of files) {
    if (file.size > MAX_FILE_BYTES) return t("fileTooLarge", { name: file.name });
    if (!ACCEPTED.has(file.type)) return t("fileTypeNotAllowed", { name: file.name });
  }
  return null;
}

/** Files as the API takes them: the original name and the bytes in base64. */
export async function filesBody(files: File[]): Promise<FileBody[]> {
  return Promise.all(files.map(async (file) => ({ filename: file.name, content_base64: await base64Of(file) })));
}

function size(bytes: number): string {
  return bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * Attachments of a new ticket or a reply: chosen files with their names and sizes, a remove
 * button each, and the upload progress while the message is sent.
 */
export function FilePicker({
  files,
  onChange,
  error,
  progress,
  disabled,
}: {
  files: File[];
  onChange: (files: File[]) => void;
  error?: string | null;
  progress: number | null;
  disabled?: boolean;
}) {
  const { t } = useTranslation("support");
  return (
    <Stack gap={6}>
      <Text size="sm" fw={500} id="attachments-label">
        {t("attachments")}
      </Text>
      <Text size="xs" c="gray.7" id="attachments-help">
        {t("attachmentsHelp", { count: MAX_FILES })}
      </Text>
      <Group gap="xs">
        <FileButton onChange={(chosen) => { onChange([...files, ...chosen]); }} accept={FILE_TYPES} multiple disabled={disabled}>
          {(props) => (
            <Button
              {...props}
              variant="default"
              size="compact-sm"
              leftSection={<IconPaperclip size={14} />}
              aria-describedby="attachments-help"
              data-testid="add-files"
            >
              {t("addFiles")}
            </Button>
          )}
        </FileButton>
      </Group>
      {files.length > 0 && (
        <Stack gap={4} component="ul" p={0} m={0} style={{ listStyle: "none" }} aria-labelledby="attachments-label">
          {files.map((file, i) => (
            <Group key={`${file.name}-${i}`} component="li" gap="xs" wrap="nowrap">
              <Text size="sm" truncate="end" maw="70%">
                {file.name}
              </Text>
              <Text size="xs" c="gray.7">
                {size(file.size)}
              </Text>
              <ActionIcon
                variant="subtle"
                color="gray"
                size="sm"
                aria-label={t("removeFile", { name: file.name })}
                disabled={disabled}
                onClick={() => { onChange(files.filter((_, j) => j !== i)); }}
              >
                <IconX size={14} />
              </ActionIcon>
            </Group>
          ))}
        </Stack>
      )}
      {progress !== null && (
        <Stack gap={2}>
          <Text size="xs" c="gray.7" aria-live="polite">
            {t("uploading", { percent: progress })}
          </Text>
          <Progress value={progress} aria-label={t("uploadProgress")} data-testid="upload-progress" />
        </Stack>
      )}
      {error && (
        <Text size="sm" c="red.8" role="alert">
          {error}
        </Text>
      )}
    </Stack>
  );
}
