/** Prisma's known request errors, by code (https://www.prisma.io/docs/orm/reference/error-reference). */
function prismaCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

/** P2002: a unique constraint refused the write. */
export function isUniqueViolation(error: unknown): boolean {
  return prismaCode(error) === 'P2002' || prismaCode(error) === '23505';
}

/** P2025: the record to update or delete does not exist. */
export function isRecordNotFound(error: unknown): boolean {
  return prismaCode(error) === 'P2025';
}

/** A write to one record by key: the record, or undefined when there is none (P2025, translated here once). */
export async function unlessMissing<T>(write: Promise<T>): Promise<T | undefined> {
  try {
    return await write;
  } catch (error) {
    if (isRecordNotFound(error)) return undefined;
    throw error;
  }
}
