// A panel or chart a lesson points at (the store's highlight, an aria-label) draws an outline:
// ' highlighted' to append to its className, else ''.
import { useLab } from '../store/labStore'

export function useHighlight(label: string): string {
  return useLab((s) => s.highlight === label) ? ' highlighted' : ''
}
