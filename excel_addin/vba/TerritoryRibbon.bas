Attribute VB_Name = "TerritoryRibbon"
' The Territory ribbon: one callback behind every button of ribbon.xml.
'
' It passes the id of the button pressed (CheckData, ScoreAccounts, Rebalance,
' Measure, OpenMap, MapSnapshot, MapBook, Help) to the one Python function
' excel_addin.ribbon.dispatch, through xlwings' RunPython (module xlwings of this add-in).
' All the work happens in Python, shared with the territory command line.
'
' The module is not named like the VBA project (Territory): the VBA editor refuses a module
' that shares its project's name. Before calling Python the callback refuses, with a message,
' a click with no workbook to work on and a click while a run is going; any VBA error
' ends in a message box with its text, never in the Debug dialog, and the busy flag is
' reset on every way out.
Option Explicit

Private Const APP_TITLE As String = "Territory Planner"

' True while a button's run is going; a second click is refused until it ends.
Private Busy As Boolean

Public Sub TerritoryButton(control As IRibbonControl)
    If Busy Then
        MsgBox "Territory Planner is still working on your last click. " & _
               "Wait until it has finished, then press the button again.", vbInformation, APP_TITLE
        Exit Sub
    End If
    On Error GoTo Failed
    If ActiveWorkbook Is Nothing Then
        MsgBox "No workbook is open to work on. Open the workbook with your Accounts sheet " & _
               "(if it is open in Protected View, click Enable Editing), then press the button again.", _
               vbInformation, APP_TITLE
        Exit Sub
    End If
    If ActiveWorkbook Is ThisWorkbook Then
        MsgBox "The Territory add-in itself is the active workbook. Open the workbook with your " & _
               "Accounts sheet, then press the button again.", vbInformation, APP_TITLE
        Exit Sub
    End If
    Busy = True
    RunPython "import excel_addin.ribbon; excel_addin.ribbon.dispatch('" & control.Id & "')"
    Busy = False
    Exit Sub
Failed:
    Busy = False
    MsgBox "Territory Planner could not run this button: " & Err.Description & _
           " (VBA error " & Err.Number & ")." & vbNewLine & vbNewLine & _
           "If it happens again, check the add-in's install steps (README, section In Excel).", _
           vbCritical, APP_TITLE
End Sub
