import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { useLab } from './store/labStore'
import { App } from './ui/App'
import './ui/style.css'
import './ui/phone.css'

// the store, for the end-to-end tests and the browser console (read state, send to the worker)
Object.assign(globalThis, { grpoLab: useLab })

createRoot(document.getElementById('root')!).render(<StrictMode><App /></StrictMode>)
